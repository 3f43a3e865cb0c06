// Concept: the inventory facts the NfcService and the NFC server check (nfcVMs), read from vcsim's
// model: the hosts, a VM's runtime host, its disk device keys and its power state.

package main

import (
	"sort"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// vcsimVMs reads vcsim's global object map; each read takes the object's lock.
type vcsimVMs struct{}

func (vcsimVMs) hosts() []hostRef {
	var out []hostRef
	for _, e := range simulator.Map.All("HostSystem") {
		var h hostRef
		simulator.Map.WithLock(e, func() {
			hs := e.(*simulator.HostSystem)
			h = hostRef{Moref: hs.Self.Value, Name: hs.Name}
		})
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// withVM runs f on the VM named by moref under its lock; it reports whether the VM exists.
func withVM(moref string, f func(vm *simulator.VirtualMachine)) bool {
	obj := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: moref})
	vm, ok := obj.(*simulator.VirtualMachine)
	if !ok {
		return false
	}
	simulator.Map.WithLock(vm, func() { f(vm) })
	return true
}

func (vcsimVMs) vmHost(moref string) (string, bool) {
	var host string
	ok := withVM(moref, func(vm *simulator.VirtualMachine) {
		if vm.Runtime.Host != nil {
			host = vm.Runtime.Host.Value
		}
	})
	return host, ok && host != ""
}

func (vcsimVMs) hasDisk(moref string, key int32) bool {
	found := false
	withVM(moref, func(vm *simulator.VirtualMachine) {
		if vm.Config == nil {
			return
		}
		for _, d := range vm.Config.Hardware.Device {
			if disk, ok := d.(*types.VirtualDisk); ok && disk.Key == key {
				found = true
			}
		}
	})
	return found
}

func (vcsimVMs) poweredOn(moref string) bool {
	on := false
	withVM(moref, func(vm *simulator.VirtualMachine) {
		on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	})
	return on
}
