// Concept: what the NFC responder needs from the rest of the simulator — the disks it serves
// (nfcDisks, satisfied by the disk store's VMDK chains through storeDisks; logicalDisk is in
// diskaccess.go) and the few inventory facts it checks (nfcVMs, satisfied by vcsim's model in
// nfc_inventory.go).

package main

import (
	"errors"
	"io/fs"
)

// nfcDisks is the datastore as NFC sees it. Errors of openLogical wrapping fs.ErrNotExist become
// the "not found" AIO error, fs.ErrPermission the permission one; anything else is a generic error.
type nfcDisks interface {
	// openLogical opens the whole chain whose descriptor is dsPath ("[ds] dir/x.vmdk"); write: writes go to its top link.
	openLogical(dsPath string, write bool) (logicalDisk, error)
	// readRefusal: the lock rules (a powered-on VM's writable leaf is never opened; its read-only base maybe, by a switch).
	readRefusal(dsPath string) (refused bool, why string)
	// owner: the VM moref and disk device key whose chain contains dsPath ("" , 0 if none).
	owner(dsPath string) (vm string, diskKey int32)
}

// hostRef names one HostSystem.
type hostRef struct {
	Moref string
	Name  string
}

// nfcVMs is the inventory as the NfcService and the NFC server see it.
type nfcVMs interface {
	// hosts lists every HostSystem, ordered by name.
	hosts() []hostRef
	// vmHost is vm.runtime.host; ok is false when vm names no VirtualMachine.
	vmHost(vm string) (host string, ok bool)
	// hasDisk reports whether vm has a VirtualDisk whose device key is key.
	hasDisk(vm string, key int32) bool
	// poweredOn reports whether vm's power state is poweredOn.
	poweredOn(vm string) bool
}

// storeDisks serves NFC from the simulator's disk store (diskaccess.go): the same chains and
// locks as /folder.
type storeDisks struct{ st *diskStore }

func (d storeDisks) openLogical(dsPath string, write bool) (logicalDisk, error) {
	return d.st.openLogical(dsPath, write)
}

// readRefusal: NFC opens a running VM's read-only parents -- the snapshot's files -- and refuses
// only its writable top (nfc.md §3.2 Errors, §4 "Running VMs": snapshot first and open the parent
// file), whatever --running-base-read says about /folder.
func (d storeDisks) readRefusal(dsPath string) (bool, string) { return d.st.lockRefusal(dsPath, true) }

func (d storeDisks) owner(dsPath string) (string, int32) {
	o, ok := d.st.owner(dsPath)
	if !ok {
		return "", 0
	}
	return o.VM.Value, o.DiskKey
}

// openErrorCode maps an openLogical failure onto the AIO error code the client sees.
func openErrorCode(err error) uint32 {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nfcErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return nfcErrPermission
	}
	return nfcErrBadRequest
}
