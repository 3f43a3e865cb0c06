// govmomi_peer: the same calls as bench/vim_roundtrip.c, made with govmomi,
// so the C bench can report a ratio against a well-known client in the same
// run.  One scenario per invocation; prints "wall_ms cpu_us" on stdout.
//
// Build (GOPATH mode, no network):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o govmomi_peer .
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
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
	fmt.Fprintln(os.Stderr, "govmomi_peer:", err)
	os.Exit(1)
}

func main() {
	sdk := flag.String("url", "", "SDK URL")
	user := flag.String("user", "admin", "user")
	pass := flag.String("pass", "freevix", "password")
	vm := flag.String("vm", "vm-42", "VM moref value")
	scenario := flag.String("scenario", "props", "props|pair|cold")
	n := flag.Int("n", 100, "iterations")
	flag.Parse()

	u, err := url.Parse(*sdk)
	if err != nil {
		die(err)
	}
	u.User = url.UserPassword(*user, *pass)
	ctx := context.Background()
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: *vm}

	var c *govmomi.Client
	if *scenario != "cold" {
		if c, err = govmomi.NewClient(ctx, u, true); err != nil {
			die(err)
		}
	}
	t0, c0 := time.Now(), cpuUs()
	for i := 0; i < *n; i++ {
		switch *scenario {
		case "props":
			var v mo.VirtualMachine
			if err := property.DefaultCollector(c.Client).RetrieveOne(ctx, ref, []string{"name"}, &v); err != nil {
				die(err)
			}
		case "pair":
			am := object.NewAuthorizationManager(c.Client)
			m := []object.DisabledMethodRequest{{Method: "RelocateVM_Task", Reason: "bench"}}
			refs := []types.ManagedObjectReference{ref}
			if err := am.DisableMethods(ctx, refs, m, "govmomi-peer"); err != nil {
				die(err)
			}
			if err := am.EnableMethods(ctx, refs, []string{"RelocateVM_Task"}, "govmomi-peer"); err != nil {
				die(err)
			}
		case "cold":
			cc, err := govmomi.NewClient(ctx, u, true)
			if err != nil {
				die(err)
			}
			var v mo.VirtualMachine
			if err := property.DefaultCollector(cc.Client).RetrieveOne(ctx, ref, []string{"name"}, &v); err != nil {
				die(err)
			}
			if err := cc.Logout(ctx); err != nil {
				die(err)
			}
			cc.CloseIdleConnections()
		default:
			die(fmt.Errorf("unknown scenario %q", *scenario))
		}
	}
	wall := time.Since(t0)
	fmt.Printf("%.3f %d\n", float64(wall.Microseconds())/1000.0, cpuUs()-c0)
	if c != nil {
		c.Logout(ctx)
	}
}
