// govmomi_batch: the peer of bench/access_batch.c -- DisableMethods then
// EnableMethods on many VMs in batches, with govmomi's
// object.AuthorizationManager, on one session.  With -preread (the
// default) each DisableMethods batch is preceded by reading the batch's
// disabledMethod with the property collector, which is what freevix does
// per batch, so both clients make the same calls.  Prints "wall_ms cpu_us"
// for login + prepare + end of all VMs + logout, as freevix's figure.
//
// Build (GOPATH mode, no network):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o govmomi_batch .
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func cpuUs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "govmomi_batch:", err)
	os.Exit(1)
}

func main() {
	sdk := flag.String("url", "", "SDK URL")
	user := flag.String("user", "admin", "user")
	pass := flag.String("pass", "freevix", "password")
	vmList := flag.String("vms", "", "comma-separated VM moref values")
	batch := flag.Int("batch", 500, "VMs per call")
	preread := flag.Bool("preread", true, "read disabledMethod before each DisableMethods batch")
	flag.Parse()

	u, err := url.Parse(*sdk)
	if err != nil {
		die(err)
	}
	u.User = url.UserPassword(*user, *pass)
	ctx := context.Background()
	t0, c0 := time.Now(), cpuUs()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		die(err)
	}
	var refs []types.ManagedObjectReference
	for _, v := range strings.Split(*vmList, ",") {
		refs = append(refs, types.ManagedObjectReference{Type: "VirtualMachine", Value: v})
	}
	am := object.NewAuthorizationManager(c.Client)
	m := []object.DisabledMethodRequest{{Method: "RelocateVM_Task", Reason: "bench"}}

	pc := property.DefaultCollector(c.Client)
	for i := 0; i < len(refs); i += *batch {
		j := i + *batch
		if j > len(refs) {
			j = len(refs)
		}
		if *preread {
			var got []mo.VirtualMachine
			if err := pc.Retrieve(ctx, refs[i:j], []string{"disabledMethod"}, &got); err != nil {
				die(err)
			}
		}
		if err := am.DisableMethods(ctx, refs[i:j], m, "govmomi-batch"); err != nil {
			die(err)
		}
	}
	for i := 0; i < len(refs); i += *batch {
		j := i + *batch
		if j > len(refs) {
			j = len(refs)
		}
		if err := am.EnableMethods(ctx, refs[i:j], []string{"RelocateVM_Task"}, "govmomi-batch"); err != nil {
			die(err)
		}
	}
	c.Logout(ctx)
	wall := time.Since(t0)
	fmt.Printf("%.3f %d\n", float64(wall.Microseconds())/1000.0, cpuUs()-c0)
}
