// govmomi_download: what a govmomi-based tool does to fetch a disk's bytes
// from a datastore, the peer of bench/backup_bench.sh and
// bench/remote_https.c in their runs.  Scenarios:
//
//	-scenario poweroff -vm vm-42     power the VM off (so /folder serves
//	                                 its disk files) and wait
//	-scenario download -ranges FILE  for each line "DATASTORE PATH OFFSET
//	                                 LENGTH" a ranged GET of the datastore
//	                                 file through vCenter (Datastore.NewURL
//	                                 and soap.Client.DownloadRequest with a
//	                                 Range header and the session cookie, as
//	                                 object.DatastoreFile does), the body
//	                                 discarded
//	-scenario file -path DIR/X       one whole datastore file (the flat
//	                                 extent the freevix client reads):
//	  -route vcenter  object.Datastore.Download through vCenter (the session
//	                  cookie, dcPath), as govc datastore.download does
//	  -route host     soap.Client.Download from the VM's host (-host, -dial)
//	                  with one generic service ticket acquired for that URL
//	                  (what Datastore.ServiceTicket does; done by hand
//	                  because vcsim's hosts have no management IP to dial)
//
// Prints "wall_ms cpu_ms bytes" for the transfer alone (login and look-ups
// excluded; backup_bench.sh times the whole process itself).  Bodies are
// read into a 1 MiB buffer and dropped.  TLS is not verified (insecure),
// as the other peers.  Build (GOPATH mode, offline):
//
//	CGO_ENABLED=0 GO111MODULE=off GOPATH=/usr/share/gocode go build -o govmomi_download .
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
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

type rng struct {
	ds, path    string
	off, length int64
}

func readRanges(name string) []rng {
	f, err := os.Open(name)
	if err != nil {
		die(err)
	}
	defer f.Close()
	var out []rng
	s := bufio.NewScanner(f)
	for s.Scan() {
		w := strings.Fields(s.Text())
		if len(w) != 4 {
			continue
		}
		off, e1 := strconv.ParseInt(w[2], 10, 64)
		n, e2 := strconv.ParseInt(w[3], 10, 64)
		if e1 != nil || e2 != nil {
			die(fmt.Errorf("bad line %q", s.Text()))
		}
		out = append(out, rng{w[0], w[1], off, n})
	}
	return out
}

// drain reads a body to its end through buf and closes it.
func drain(rc io.ReadCloser, buf []byte) int64 {
	defer rc.Close()
	var n int64
	for {
		k, err := rc.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n
		}
		if err != nil {
			die(err)
		}
	}
}

// datastores looks datastores up by name in one datacenter ("" the default).
type datastores struct {
	finder *find.Finder
	byName map[string]*object.Datastore
}

func newDatastores(ctx context.Context, c *vim25.Client, dcName string) *datastores {
	finder := find.NewFinder(c, true)
	var dc *object.Datacenter
	var err error
	if dcName == "" {
		dc, err = finder.DefaultDatacenter(ctx)
	} else {
		dc, err = finder.Datacenter(ctx, dcName)
	}
	if err != nil {
		die(err)
	}
	finder.SetDatacenter(dc)
	return &datastores{finder, map[string]*object.Datastore{}}
}

func (d *datastores) get(ctx context.Context, name string) *object.Datastore {
	if ds := d.byName[name]; ds != nil {
		return ds
	}
	ds, err := d.finder.Datastore(ctx, name)
	if err != nil {
		die(err)
	}
	d.byName[name] = ds
	return ds
}

func main() {
	sdk := flag.String("url", "", "SDK URL")
	user := flag.String("user", "admin", "user")
	pass := flag.String("pass", "freevix", "password")
	scenario := flag.String("scenario", "download", "poweroff|download|file")
	vm := flag.String("vm", "", "VM moref value (poweroff)")
	ranges := flag.String("ranges", "", "ranges file (download)")
	route := flag.String("route", "vcenter", "vcenter|host (file)")
	dcName := flag.String("dc", "", "datacenter (file; default: the default one)")
	dsName := flag.String("ds", "LocalDS_0", "datastore (file)")
	file := flag.String("path", "", "file on the datastore, dir/x-flat.vmdk (file)")
	host := flag.String("host", "", "host name (file, route host)")
	dial := flag.String("dial", "", "HOST:PORT=ADDR:PORT, the host's listener (file, route host)")
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

	buf := make([]byte, 1<<20)
	var transfer func() int64
	switch *scenario {
	case "poweroff":
		transfer = func() int64 {
			v := object.NewVirtualMachine(c.Client, types.ManagedObjectReference{Type: "VirtualMachine", Value: *vm})
			task, err := v.PowerOff(ctx)
			if err == nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				die(err)
			}
			return 0
		}
	case "download":
		stores := newDatastores(ctx, c.Client, *dcName)
		list := readRanges(*ranges)
		for _, r := range list {
			stores.get(ctx, r.ds)
		}
		transfer = func() int64 {
			var total int64
			for _, r := range list {
				ds := stores.get(ctx, r.ds)
				// What object.DatastoreFile does, with a closed range:
				// Datastore.Download itself refuses a 206.
				p := soap.DefaultDownload
				p.Headers = map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", r.off, r.off+r.length-1)}
				res, err := ds.Client().DownloadRequest(ctx, ds.NewURL(r.path), &p)
				if err != nil {
					die(err)
				}
				if res.StatusCode != http.StatusPartialContent {
					res.Body.Close()
					die(fmt.Errorf("%s: %s", r.path, res.Status))
				}
				total += drain(res.Body, buf)
			}
			return total
		}
	case "file":
		var open func() (io.ReadCloser, error)
		switch *route {
		case "vcenter":
			ds := newDatastores(ctx, c.Client, *dcName).get(ctx, *dsName)
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
		transfer = func() int64 {
			rc, err := open()
			if err != nil {
				die(err)
			}
			return drain(rc, buf)
		}
	default:
		die(fmt.Errorf("unknown scenario %q", *scenario))
	}

	t0, c0 := time.Now(), cpuMs()
	n := transfer()
	fmt.Printf("%.3f %.3f %d\n", float64(time.Since(t0).Microseconds())/1000, cpuMs()-c0, n)
}
