// govmomi_download: the govmomi peer of bench/remote_https.c -- downloads
// one datastore file (the flat extent the freevix client reads) with
// govmomi, on the route the freevix figure is taken on:
//
//   -route vcenter  object.Datastore.Download through vCenter (the session
//                   cookie, dcPath), as govc datastore.download does
//   -route host     soap.Client.Download from the VM's host with one generic
//                   service ticket acquired for that URL (what
//                   Datastore.ServiceTicket does; done by hand because
//                   vcsim's hosts have no management IP to dial)
//
// The body is read into a 1 MiB buffer and dropped.  Prints "bytes wall_ms
// cpu_ms" for the download alone (login and look-ups excluded).  TLS is
// not verified (insecure), as the other peers: one handshake per run.
//
// Build (GOPATH mode, no network):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o govmomi_download .
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func cpuMs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "govmomi_download:", err)
	os.Exit(1)
}

func main() {
	sdk := flag.String("url", "", "SDK URL")
	user := flag.String("user", "admin", "user")
	pass := flag.String("pass", "freevix", "password")
	route := flag.String("route", "vcenter", "vcenter|host")
	dcName := flag.String("dc", "DC0", "datacenter")
	dsName := flag.String("ds", "LocalDS_0", "datastore")
	file := flag.String("path", "", "file on the datastore (dir/x-flat.vmdk)")
	host := flag.String("host", "", "host name (route host)")
	dial := flag.String("dial", "", "HOST:PORT=ADDR:PORT, the host's listener (route host)")
	flag.Parse()

	u, err := url.Parse(*sdk)
	if err != nil {
		die(err)
	}
	u.User = url.UserPassword(*user, *pass)
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		die(err)
	}
	defer c.Logout(ctx)
	if from, to, ok := strings.Cut(*dial, "="); ok {
		d := &net.Dialer{}
		c.Client.DefaultTransport().DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == from {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		}
	}

	var open func() (io.ReadCloser, error)
	switch *route {
	case "vcenter":
		finder := find.NewFinder(c.Client)
		dc, err := finder.Datacenter(ctx, *dcName)
		if err != nil {
			die(err)
		}
		finder.SetDatacenter(dc)
		ds, err := finder.Datastore(ctx, *dsName)
		if err != nil {
			die(err)
		}
		open = func() (io.ReadCloser, error) {
			rc, _, err := ds.Download(ctx, *file, nil)
			return rc, err
		}
	case "host":
		fu := &url.URL{Scheme: "https", Host: *host, Path: "/folder/" + *file,
			RawQuery: url.Values{"dsName": {*dsName}}.Encode()}
		open = func() (io.ReadCloser, error) {
			tk, err := session.NewManager(c.Client).AcquireGenericServiceTicket(ctx,
				&types.SessionManagerHttpServiceRequestSpec{Url: fu.String(), Method: "httpGet"})
			if err != nil {
				return nil, err
			}
			p := soap.DefaultDownload
			p.Ticket = &http.Cookie{Name: "vmware_cgi_ticket", Value: tk.Id}
			rc, _, err := c.Client.Download(ctx, fu, &p)
			return rc, err
		}
	default:
		die(fmt.Errorf("unknown route %q", *route))
	}

	t0, c0 := time.Now(), cpuMs()
	rc, err := open()
	if err != nil {
		die(err)
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := rc.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			die(err)
		}
	}
	rc.Close()
	fmt.Printf("%d %.3f %.3f\n", n, float64(time.Since(t0).Microseconds())/1000.0, cpuMs()-c0)
}
