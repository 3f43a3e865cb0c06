// Concept: tests of the datastore HTTP interface — /folder authentication (none, session cookie,
// Basic, generic service tickets: single use, bound to URL, method and server), byte ranges and
// HEAD, the lock rules of running VMs (both settings of --running-base-read), and the per-host
// listeners with their certificates and tickets, in vcenter and esx mode.

package main

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// folderClient speaks HTTPS to the simulator; pin, when set, is the SHA-1 thumbprint the server's
// certificate must have.
func folderClient(pin string) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if pin == "" {
				return nil
			}
			sum := sha1.Sum(cs.PeerCertificates[0].Raw)
			if thumbprint(sum[:]) != pin {
				return fmt.Errorf("certificate %s, want %s", thumbprint(sum[:]), pin)
			}
			return nil
		},
	}}}
}

// fetch makes one request and returns the answer with its body read.
func fetch(t *testing.T, hc *http.Client, method, u string, hdr map[string]string, cookies ...*http.Cookie) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// sdkBase is "https://127.0.0.1:PORT".
func (s *sim) sdkBase() string {
	return strings.TrimSuffix(s.SDK, "/sdk")
}

// folderURL is the /folder URL of a datastore path on base.
func folderURL(base, dsPath, query string) string {
	rel := strings.SplitN(dsPath, "] ", 2)[1]
	return base + "/folder/" + rel + "?" + query
}

func acquireTicket(t *testing.T, c *vim25.Client, u, method string) (types.SessionManagerGenericServiceTicket, error) {
	t.Helper()
	tk, err := session.NewManager(c).AcquireGenericServiceTicket(context.Background(),
		&types.SessionManagerHttpServiceRequestSpec{Url: u, Method: method})
	if err != nil {
		return types.SessionManagerGenericServiceTicket{}, err
	}
	return *tk, nil
}

func ticketCookieOf(tk types.SessionManagerGenericServiceTicket) *http.Cookie {
	return &http.Cookie{Name: "vmware_cgi_ticket", Value: tk.Id}
}

func TestFolderAuthAndRanges(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	power(t, c, vm, false)
	v := s.vmByMoref(t, vm.Value)
	flat := strings.TrimSuffix(v.Disks[0].FileName, ".vmdk") + "-flat.vmdk"
	const q = "dcPath=DC0&dsName=LocalDS_0"
	u := folderURL(s.sdkBase(), flat, q)
	hc := folderClient(s.ThumbprintSHA1)
	size := int64(64 << 20)

	if res, _ := fetch(t, hc, "GET", u, nil); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := fetch(t, hc, "GET", u, nil, &http.Cookie{Name: "vmware_soap_session", Value: "nope"}); res.StatusCode != 401 {
		t.Fatalf("dead cookie: %d", res.StatusCode)
	}
	cookie := sessionCookie(t, c)
	res, body := fetch(t, hc, "GET", u, nil, cookie)
	if res.StatusCode != 200 || res.ContentLength != size || res.Header.Get("Accept-Ranges") != "bytes" ||
		hexSum(body) != s.diskHash(t, vm.Value, 2000, "") {
		t.Fatalf("GET: %d length %d %v", res.StatusCode, res.ContentLength, res.Header)
	}
	whole := body
	for _, tc := range []struct {
		spec       string
		status     int
		crange     string
		start, end int64
	}{
		{"bytes=100-199", 206, "bytes 100-199/67108864", 100, 200},
		{"bytes=67108860-", 206, "bytes 67108860-67108863/67108864", size - 4, size},
		{"bytes=-10", 206, "bytes 67108854-67108863/67108864", size - 10, size},
		{"bytes=5-99999999999", 206, "bytes 5-67108863/67108864", 5, size},
		{"bytes=67108864-", 416, "bytes */67108864", 0, 0},
		{"bytes=0-1,5-6", 416, "bytes */67108864", 0, 0},
		{"bytes=oops", 200, "", 0, size},
	} {
		res, body := fetch(t, hc, "GET", u, map[string]string{"Range": tc.spec}, cookie)
		if res.StatusCode != tc.status || res.Header.Get("Content-Range") != tc.crange {
			t.Fatalf("%s: %d %q", tc.spec, res.StatusCode, res.Header.Get("Content-Range"))
		}
		if tc.status != 416 && string(body) != string(whole[tc.start:tc.end]) {
			t.Fatalf("%s: wrong bytes", tc.spec)
		}
	}
	res, body = fetch(t, hc, "HEAD", u, nil, cookie)
	if res.StatusCode != 200 || res.ContentLength != size || len(body) != 0 || res.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD: %d %d %d", res.StatusCode, res.ContentLength, len(body))
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth("admin", "freevix")
	req.Header.Set("Range", "bytes=0-0")
	if res, err := hc.Do(req); err != nil || res.StatusCode != 206 {
		t.Fatalf("Basic: %v %v", res, err)
	}

	// Tickets: once, for that URL and method.
	tk, err := acquireTicket(t, c, u, "httpGet")
	if err != nil || tk.Id == "" || tk.SslThumbprint != s.ThumbprintSHA1 {
		t.Fatalf("ticket %+v %v", tk, err)
	}
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 206 {
		t.Fatalf("ticket: %d", res.StatusCode)
	}
	if res, _ := fetch(t, hc, "GET", u, nil, ticketCookieOf(tk)); res.StatusCode != 401 {
		t.Fatalf("ticket used twice: %d", res.StatusCode)
	}
	tk, _ = acquireTicket(t, c, u, "httpGet")
	if res, _ := fetch(t, hc, "HEAD", u, nil, ticketCookieOf(tk)); res.StatusCode != 403 {
		t.Fatalf("GET ticket used for HEAD: %d", res.StatusCode)
	}
	tk, _ = acquireTicket(t, c, folderURL(s.sdkBase(), v.Disks[0].FileName, q), "")
	if res, _ := fetch(t, hc, "GET", u, nil, ticketCookieOf(tk)); res.StatusCode != 403 {
		t.Fatalf("ticket for another URL: %d", res.StatusCode)
	}
	tk, _ = acquireTicket(t, c, u, "")
	if res, _ := fetch(t, hc, "HEAD", u, nil, ticketCookieOf(tk)); res.StatusCode != 200 {
		t.Fatalf("ticket for any method: %d", res.StatusCode)
	}
	// Injected: a good ticket refused as used or lapsed (401), and used up all the same.
	s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_stale_ticket", "count": 1}, nil)
	tk, _ = acquireTicket(t, c, u, "httpGet")
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 401 {
		t.Fatalf("folder_stale_ticket: %d", res.StatusCode)
	}
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 401 {
		t.Fatalf("a ticket refused by folder_stale_ticket is used up: %d", res.StatusCode)
	}
	tk, _ = acquireTicket(t, c, u, "httpGet")
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 206 {
		t.Fatalf("after folder_stale_ticket: %d", res.StatusCode)
	}
	if _, err := acquireTicket(t, c, "https://elsewhere.example/folder/x", "httpGet"); err == nil {
		t.Fatal("ticket for an unknown server")
	}
	if _, err := acquireTicket(t, c, u, "httpFly"); err == nil {
		t.Fatal("ticket for an unknown method")
	}

	for _, bad := range []string{
		folderURL(s.sdkBase(), "[LocalDS_0] nope/nope.vmdk", q),
		folderURL(s.sdkBase(), flat, "dcPath=DC9&dsName=LocalDS_0"),
		folderURL(s.sdkBase(), flat, "dcPath=DC0&dsName=NoDS"),
	} {
		if res, _ := fetch(t, hc, "GET", bad, nil, cookie); res.StatusCode != 404 {
			t.Fatalf("%s: %d", bad, res.StatusCode)
		}
	}
	if res, _ := fetch(t, hc, "DELETE", u, nil, cookie); res.StatusCode != 405 {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	// Injected faults: a connection dropped mid-body, then a 503.
	if code := s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_drop", "count": 1, "after": 1000}, nil); code != 200 {
		t.Fatalf("arm folder_drop: %d", code)
	}
	req, _ = http.NewRequest("GET", u, nil)
	req.AddCookie(cookie)
	req.Header.Set("Range", "bytes=0-99999")
	if res, err := hc.Do(req); err != nil {
		t.Fatal(err)
	} else {
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil || len(got) != 1000 || string(got) != string(whole[:1000]) {
			t.Fatalf("dropped body: %d bytes, %v", len(got), err)
		}
	}
	s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_503", "count": 1}, nil)
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, cookie); res.StatusCode != 503 {
		t.Fatalf("folder_503: %d", res.StatusCode)
	}
	s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_status", "status": 404, "count": 1}, nil)
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, cookie); res.StatusCode != 404 {
		t.Fatalf("folder_status 404: %d", res.StatusCode)
	}
	if code := s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_status", "status": 200, "count": 1}, nil); code != 400 {
		t.Fatalf("folder_status 200 accepted: %d", code)
	}
	s.call(t, "POST", "/fault", map[string]interface{}{"kind": "folder_delay", "ms": 300, "count": 1}, nil)
	t0 := time.Now()
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, cookie); res.StatusCode != 206 || time.Since(t0) < 300*time.Millisecond {
		t.Fatalf("folder_delay: %d after %v", res.StatusCode, time.Since(t0))
	}
	if res, _ := fetch(t, hc, "GET", u, map[string]string{"Range": "bytes=0-9"}, cookie); res.StatusCode != 206 {
		t.Fatalf("after the faults: %d", res.StatusCode)
	}
	var st statsView
	s.call(t, "GET", "/stats", nil, &st)
	p := "/folder/" + strings.SplitN(flat, "] ", 2)[1]
	if st.FolderBytes < size || st.FolderBytesByPath[p] < size || st.FolderBytesByServer["vcenter"] != st.FolderBytes || st.RequestsByPath[p] < 10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFolderLocks(t *testing.T) {
	for _, mode := range []string{"refuse", "allow"} {
		t.Run(mode, func(t *testing.T) {
			s := startSim(t, "--running-base-read", mode)
			c := s.admin(t)
			vm := s.vm(t, 0)
			cookie := sessionCookie(t, c)
			hc := folderClient("")
			v := s.vmByMoref(t, vm.Value)
			base := v.Disks[0].FileName
			get := func(dsPath string) (int, string) {
				res, body := fetch(t, hc, "GET", folderURL(s.sdkBase(), dsPath, "dcPath=DC0&dsName=LocalDS_0"),
					map[string]string{"Range": "bytes=0-99"}, cookie)
				return res.StatusCode, string(body)
			}
			flatOf := func(desc, suffix string) string { return strings.TrimSuffix(desc, ".vmdk") + suffix }
			if code, body := get(flatOf(base, "-flat.vmdk")); code != lockedStatus || !strings.Contains(body, "since it is locked") {
				t.Fatalf("running VM's only disk: %d %s", code, body)
			}
			if code, _ := get(base); code != lockedStatus {
				t.Fatalf("running VM's descriptor: %d", code)
			}
			if code, _ := get(strings.SplitN(v.Vmx, "] ", 2)[0] + "] " + v.Dir + "/vmware.log"); code != 200 && code != 206 {
				t.Fatalf("log of a running VM: %d", code)
			}
			snapshot(t, c, vm, "backup")
			top := s.vmByMoref(t, vm.Value).Disks[0].FileName
			if code, _ := get(flatOf(top, "-sesparse.vmdk")); code != lockedStatus {
				t.Fatalf("running VM's top delta: %d", code)
			}
			wantBase := lockedStatus
			if mode == "allow" {
				wantBase = 206
			}
			if code, _ := get(flatOf(base, "-flat.vmdk")); code != wantBase {
				t.Fatalf("running VM's base with a snapshot: %d, want %d", code, wantBase)
			}
			power(t, c, vm, false)
			for _, f := range []string{flatOf(base, "-flat.vmdk"), base, top, flatOf(top, "-sesparse.vmdk")} {
				if code, _ := get(f); code != 206 {
					t.Fatalf("powered-off VM's %s: %d", f, code)
				}
			}
		})
	}
}

// vmHost is the name of the host a VM runs on.
func vmHost(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference) string {
	t.Helper()
	ctx := context.Background()
	var m mo.VirtualMachine
	if err := property.DefaultCollector(c).RetrieveOne(ctx, vm, []string{"runtime.host"}, &m); err != nil {
		t.Fatal(err)
	}
	var h mo.HostSystem
	if err := property.DefaultCollector(c).RetrieveOne(ctx, *m.Runtime.Host, []string{"name", "summary.config.sslThumbprint"}, &h); err != nil {
		t.Fatal(err)
	}
	return h.Name
}

func TestHostListenersAndTickets(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	if len(s.Hosts) != 4 {
		t.Fatalf("hosts %+v", s.Hosts)
	}
	byName := map[string]hostInfo{}
	for _, h := range s.Hosts {
		byName[h.Name] = h
		var m mo.HostSystem
		ref := types.ManagedObjectReference{Type: "HostSystem", Value: h.Moref}
		if err := property.DefaultCollector(c).RetrieveOne(context.Background(), ref, []string{"summary.config.sslThumbprint"}, &m); err != nil {
			t.Fatal(err)
		}
		if m.Summary.Config.SslThumbprint != h.ThumbprintSHA1 || h.HTTPSPort == 0 || h.ThumbprintSHA1 == s.ThumbprintSHA1 {
			t.Fatalf("host %+v: summary.config.sslThumbprint %q", h, m.Summary.Config.SslThumbprint)
		}
	}
	vm := s.vm(t, 0)
	power(t, c, vm, false)
	v := s.vmByMoref(t, vm.Value)
	name := vmHost(t, c, vm)
	h := byName[name]
	flat := strings.TrimSuffix(v.Disks[0].FileName, ".vmdk") + "-flat.vmdk"
	ticketURL := folderURL("https://"+name, flat, "dsName=LocalDS_0")
	dial := folderURL(fmt.Sprintf("https://127.0.0.1:%d", h.HTTPSPort), flat, "dsName=LocalDS_0")
	hc := folderClient(h.ThumbprintSHA1)

	tk, err := acquireTicket(t, c, ticketURL, "httpGet")
	if err != nil || tk.HostName != name || tk.SslThumbprint != h.ThumbprintSHA1 {
		t.Fatalf("host ticket %+v %v", tk, err)
	}
	res, body := fetch(t, hc, "GET", dial, map[string]string{"Host": name}, ticketCookieOf(tk))
	if res.StatusCode != 200 || hexSum(body) != s.diskHash(t, vm.Value, 2000, "") {
		t.Fatalf("GET on the host: %d", res.StatusCode)
	}
	if res, _ := fetch(t, hc, "GET", dial, nil, ticketCookieOf(tk)); res.StatusCode != 401 {
		t.Fatalf("host ticket used twice: %d", res.StatusCode)
	}
	if res, _ := fetch(t, hc, "GET", dial, nil, sessionCookie(t, c)); res.StatusCode != 401 {
		t.Fatalf("session cookie on a host: %d", res.StatusCode)
	}
	// A ticket for another host is refused here, and one for vCenter too.
	var other hostInfo
	for _, x := range s.Hosts {
		if x.Name != name {
			other = x
		}
	}
	tk, _ = acquireTicket(t, c, folderURL("https://"+other.Name, flat, "dsName=LocalDS_0"), "httpGet")
	if res, _ := fetch(t, hc, "GET", dial, nil, ticketCookieOf(tk)); res.StatusCode != 403 {
		t.Fatalf("another host's ticket: %d", res.StatusCode)
	}
	tk, _ = acquireTicket(t, c, folderURL(s.sdkBase(), flat, "dsName=LocalDS_0"), "httpGet")
	if tk.HostName != "" {
		t.Fatalf("vCenter ticket names host %q", tk.HostName)
	}
	if res, _ := fetch(t, hc, "GET", dial, nil, ticketCookieOf(tk)); res.StatusCode != 403 {
		t.Fatalf("vCenter's ticket on a host: %d", res.StatusCode)
	}
	// A host addressed by 127.0.0.1 and its port is the same host.
	tk, _ = acquireTicket(t, c, dial, "httpHead")
	if tk.HostName != name {
		t.Fatalf("ticket for 127.0.0.1:%d names %q", h.HTTPSPort, tk.HostName)
	}
	if res, _ := fetch(t, hc, "HEAD", dial, nil, ticketCookieOf(tk)); res.StatusCode != 200 {
		t.Fatalf("HEAD with a host ticket: %d", res.StatusCode)
	}
	// The host's certificate is its own.
	if _, err := folderClient(s.ThumbprintSHA1).Get(dial); err == nil {
		t.Fatal("the host presented vCenter's certificate")
	}
}

func TestESXFolder(t *testing.T) {
	s := startSim(t, "--mode", "esx", "--vms", "1")
	c := s.admin(t)
	vm := s.vm(t, 0)
	power(t, c, vm, false)
	v := s.vmByMoref(t, vm.Value)
	if len(s.Hosts) != 1 || s.Hosts[0].ThumbprintSHA1 != s.ThumbprintSHA1 {
		t.Fatalf("esx hosts %+v", s.Hosts)
	}
	hc := folderClient(s.ThumbprintSHA1)
	u := folderURL(s.sdkBase(), v.Disks[0].FileName, "dsName=LocalDS_0") // dcPath defaults to ha-datacenter
	if res, _ := fetch(t, hc, "GET", u, nil, sessionCookie(t, c)); res.StatusCode != 200 {
		t.Fatalf("esx /folder without dcPath: %d", res.StatusCode)
	}
	if res, _ := fetch(t, hc, "GET", folderURL(s.sdkBase(), v.Disks[0].FileName, "dcPath=ha-datacenter&dsName=LocalDS_0"), nil, sessionCookie(t, c)); res.StatusCode != 200 {
		t.Fatalf("esx /folder: %d", res.StatusCode)
	}
	tk, err := acquireTicket(t, c, folderURL("https://"+s.Hosts[0].Name, v.Disks[0].FileName, "dsName=LocalDS_0"), "httpGet")
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := fetch(t, hc, "GET", u, nil, ticketCookieOf(tk)); res.StatusCode != 200 {
		t.Fatalf("esx host ticket on the SDK endpoint: %d", res.StatusCode)
	}
}
