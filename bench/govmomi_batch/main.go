// govmomi_batch: the peer of bench/access_batch.c -- DisableMethods then
// EnableMethods on many VMs in batches, with govmomi's
// object.AuthorizationManager, on one logged-in session.  Prints
// "wall_ms cpu_us" for the prepare+end of all VMs (login excluded).
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
	var refs []types.ManagedObjectReference
	for _, v := range strings.Split(*vmList, ",") {
		refs = append(refs, types.ManagedObjectReference{Type: "VirtualMachine", Value: v})
	}
	am := object.NewAuthorizationManager(c.Client)
	m := []object.DisabledMethodRequest{{Method: "RelocateVM_Task", Reason: "bench"}}

	t0, c0 := time.Now(), cpuUs()
	for i := 0; i < len(refs); i += *batch {
		j := i + *batch
		if j > len(refs) {
			j = len(refs)
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
	wall := time.Since(t0)
	fmt.Printf("%.3f %d\n", float64(wall.Microseconds())/1000.0, cpuUs()-c0)
	c.Logout(ctx)
}
