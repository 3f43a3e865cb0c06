// Concept: what the NFC responder needs from the rest of the simulator — the disks it serves
// (nfcDisks, satisfied by the sim-disks branch's VMDK chains) and the few inventory facts it checks
// (nfcVMs, satisfied by vcsim's model in nfc_inventory.go). Until the real disk backend is merged,
// noDisks stands in: every OPEN_FILE then fails with "not found".

package main

import (
	"errors"
	"fmt"
	"io/fs"
)

// logicalDisk is one opened disk chain, addressed in bytes of the guest-visible disk.
// ReadAt returns real zeros for holes (nfc.md §3.2 IO: "Holes come back as real zeros").
// Allocated reports whether the byte at off is allocated in any link of the chain and the length
// of the run of the same state that starts at off (0 < run <= length).
// DDB looks up a descriptor key as it travels on the wire, without the "ddb." prefix (nfc.md §3.2
// DDB_GET), e.g. "adapterType" or "geometry.biosHeads"; ok is false when the key is absent.
// Flush makes writes durable; Close releases the chain (no call is valid after it).
type logicalDisk interface {
	Size() int64
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Allocated(off, length int64) (allocated bool, run int64, err error)
	DDB(key string) (string, bool)
	Flush() error
	Close() error
}

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

// noDisks is the backend until the sim-disks branch provides real VMDK chains: it owns nothing,
// refuses nothing and opens nothing.
type noDisks struct{}

var errNoDiskBackend = fmt.Errorf("no disk backend in this build: %w", fs.ErrNotExist)

func (noDisks) openLogical(string, bool) (logicalDisk, error) { return nil, errNoDiskBackend }
func (noDisks) readRefusal(string) (bool, string)             { return false, "" }
func (noDisks) owner(string) (string, int32)                  { return "", 0 }

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
