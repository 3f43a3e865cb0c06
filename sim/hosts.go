// Concept: the hosts reachable on loopback — every HostSystem gets its own HTTPS listener on
// 127.0.0.1 with its own self-signed certificate (its SHA-1 thumbprint is what vCenter reports as
// the host's summary.config.sslThumbprint and in tickets for it), serving /folder for the
// datastores the host mounts to holders of generic service tickets issued for it; and the mapping
// from a URL's host to the server it names, for AcquireGenericServiceTicket.
//
// Design: a host is named in URLs by its inventory name ("DC0_H0", as vcsim names hosts; curl and
// Go accept the underscore) and reached at 127.0.0.1:<its port>, which the start-up line lists
// (the C client dials it with libcurl's CONNECT_TO). In esx mode the SDK endpoint is the host, so
// the host listener shares its certificate, and a ticket for either is good on both.

package main

import (
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// hostInfo is a host's entry in the start-up line.
type hostInfo struct {
	Name             string `json:"name"`
	Moref            string `json:"moref"`
	HTTPSPort        int    `json:"https_port"`
	ThumbprintSHA1   string `json:"thumbprint_sha1"`
	ThumbprintSHA256 string `json:"thumbprint_sha256"`
	Cert             string `json:"cert"`
	NFCPort          int    `json:"nfc_port"` // its authd/NFC port (nfc.md §2), 127.0.0.1
}

type hostServer struct {
	hostInfo
	cert       *certificate // nil with --no-tls
	datastores map[string]bool
	ln         net.Listener
	srv        *http.Server
}

// serverSet is the SDK endpoint and the host listeners, as URLs name them.
type serverSet struct {
	esx      bool
	sdkPort  int
	sdkThumb string
	hosts    []*hostServer
}

// startHosts opens a listener (and, with TLS, makes a certificate in dir) for every host.
func startHosts(dir string, sdkPort int, sdkCert *certificate, esx bool) (*serverSet, error) {
	set := &serverSet{esx: esx, sdkPort: sdkPort}
	if sdkCert != nil {
		set.sdkThumb = sdkCert.sha1
	}
	hosts := simulator.Map.All("HostSystem")
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Entity().Name < hosts[j].Entity().Name })
	for _, e := range hosts {
		h := e.(*simulator.HostSystem)
		ln, err := listenLoopback("127.0.0.1:0")
		if err != nil {
			set.close()
			return nil, err
		}
		hs := &hostServer{ln: ln, datastores: map[string]bool{}}
		var dss []types.ManagedObjectReference
		simulator.Map.WithLock(h, func() {
			hs.Name, hs.Moref, dss = h.Name, h.Self.Value, h.Datastore
		})
		hs.HTTPSPort = ln.Addr().(*net.TCPAddr).Port
		set.hosts = append(set.hosts, hs)
		for _, ref := range dss {
			if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
				hs.datastores[ds.Name] = true
			}
		}
		switch {
		case sdkCert == nil:
		case esx:
			hs.cert = sdkCert
		default:
			if hs.cert, err = newCertificate(filepath.Join(dir, "host-"+hs.Moref+".pem"), hs.Name); err != nil {
				set.close()
				return nil, err
			}
		}
		if hs.cert != nil {
			hs.ThumbprintSHA1, hs.ThumbprintSHA256, hs.Cert = hs.cert.sha1, hs.cert.sha256, hs.cert.file
		}
		thumb := hs.ThumbprintSHA1
		simulator.Map.WithLock(h, func() {
			simulator.Map.Update(h, []types.PropertyChange{{Name: "summary.config.sslThumbprint", Val: thumb}})
		})
	}
	return set, nil
}

// serve starts every host's server with the handler handlerFor gives it, counting connections and
// handshakes with count.
func (set *serverSet) serve(handlerFor func(h *hostServer) http.Handler, count listenerCounts) {
	for _, h := range set.hosts {
		h.srv = serveSDK(h.ln, handlerFor(h), h.cert, count)
	}
}

// httpServers are the host listeners' servers (once serve has started them).
func (set *serverSet) httpServers() []*http.Server {
	var out []*http.Server
	for _, h := range set.hosts {
		if h.srv != nil {
			out = append(out, h.srv)
		}
	}
	return out
}

func (set *serverSet) close() {
	for _, h := range set.hosts {
		if h.srv != nil {
			_ = h.srv.Close()
		} else if h.ln != nil {
			_ = h.ln.Close()
		}
	}
}

func (set *serverSet) infos() []hostInfo {
	out := []hostInfo{}
	for _, h := range set.hosts {
		out = append(out, h.hostInfo)
	}
	return out
}

// resolve maps a URL's host[:port] to the server it names: a host (by name, port 443 or its own,
// or 127.0.0.1/localhost with its port), or the SDK endpoint ("" with h nil: 127.0.0.1/localhost
// with the SDK's port). ok false: neither.
func (set *serverSet) resolve(hostport string) (h *hostServer, ok bool) {
	name, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		name, portText = hostport, ""
	}
	port := 0
	if portText != "" {
		if port, err = strconv.Atoi(portText); err != nil {
			return nil, false
		}
	}
	loopback := name == "127.0.0.1" || strings.EqualFold(name, "localhost")
	for _, h := range set.hosts {
		if strings.EqualFold(name, h.Name) && (port == 0 || port == 443 || port == h.HTTPSPort) {
			return h, true
		}
		if loopback && port == h.HTTPSPort {
			return h, true
		}
	}
	if loopback && port == set.sdkPort {
		return nil, true
	}
	return nil, false
}

// serverName is how tickets and statistics name a server: a host's name, "" for the SDK endpoint.
func serverName(h *hostServer) string {
	if h == nil {
		return ""
	}
	return h.Name
}

// sameServer reports whether a ticket for server a is good on server b (in esx mode the SDK
// endpoint is the one host).
func (set *serverSet) sameServer(a, b string) bool {
	if a == b {
		return true
	}
	return set.esx && len(set.hosts) == 1 && (a == "" || a == set.hosts[0].Name) && (b == "" || b == set.hosts[0].Name)
}
