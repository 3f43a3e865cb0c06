// govmomi_download: what a govmomi-based backup tool does to fetch a disk's
// allocated bytes, for bench/backup_bench.sh to compare with freevix backup
// and curl in the same run.  Scenarios:
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
//
// Prints "wall_ms cpu_ms bytes" on stdout.  Build (GOPATH mode, offline):
//
//	CGO_ENABLED=0 GO111MODULE=off GOPATH=/usr/share/gocode go build -o govmomi_download .
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
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

func main() {
	sdk := flag.String("url", "", "SDK URL")
	user := flag.String("user", "admin", "user")
	pass := flag.String("pass", "freevix", "password")
	vm := flag.String("vm", "", "VM moref value (poweroff)")
	ranges := flag.String("ranges", "", "ranges file (download)")
	scenario := flag.String("scenario", "download", "poweroff|download")
	flag.Parse()

	u, err := url.Parse(*sdk)
	if err != nil {
		die(err)
	}
	u.User = url.UserPassword(*user, *pass)
	ctx := context.Background()
	t0, c0 := time.Now(), cpuMs()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		die(err)
	}
	var total int64
	switch *scenario {
	case "poweroff":
		v := object.NewVirtualMachine(c.Client, types.ManagedObjectReference{Type: "VirtualMachine", Value: *vm})
		task, err := v.PowerOff(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			die(err)
		}
	case "download":
		finder := find.NewFinder(c.Client, true)
		dc, err := finder.DefaultDatacenter(ctx)
		if err != nil {
			die(err)
		}
		finder.SetDatacenter(dc)
		stores := map[string]*object.Datastore{}
		for _, r := range readRanges(*ranges) {
			ds := stores[r.ds]
			if ds == nil {
				if ds, err = finder.Datastore(ctx, r.ds); err != nil {
					die(err)
				}
				stores[r.ds] = ds
			}
			// What object.DatastoreFile does, with a closed range:
			// Datastore.Download itself refuses a 206.
			p := soap.DefaultDownload
			p.Headers = map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", r.off, r.off+r.length-1)}
			res, err := ds.Client().DownloadRequest(ctx, ds.NewURL(r.path), &p)
			if err != nil {
				die(err)
			}
			if res.StatusCode != http.StatusPartialContent {
				die(fmt.Errorf("%s: %s", r.path, res.Status))
			}
			n, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil {
				die(err)
			}
			total += n
		}
	default:
		die(fmt.Errorf("unknown scenario %q", *scenario))
	}
	fmt.Printf("%.0f %.0f %d\n", float64(time.Since(t0).Microseconds())/1000, cpuMs()-c0, total)
}
