// Concept: access to the simulated disks for the data paths — the logicalDisk the NFC responder
// (sim/nfc*.go) and the admin endpoint read and write, the lock rules /folder and NFC apply to a
// running VM's files (readRefusal), and which VM and disk own a file.
//
// Design: openLogical opens the whole chain under a descriptor ("[ds] dir/x-000001.vmdk"): reads
// come from the chain, writes go to its top, which must be the VM's current leaf (every other link
// of a VM is read-only: a snapshot's state, or a parent of other links). A write through it is a
// guest write: Changed Block Tracking records it and the admin hashes see it. While a logical disk
// is open, its links and their parents stay in place (consolidation waits for Close), and while it
// is open for writing, snapshot operations on the VM fail with FileLocked. Files no VM owns are
// opened as they are, without CBT.

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/types"
)

// logicalDisk is an opened virtual disk: the chain from the descriptor it was opened by down to
// its base. ReadAt/WriteAt follow io.ReaderAt/io.WriterAt (a read past the end is short with
// io.EOF; a write past the end fails). Allocated reports whether off is allocated in the chain and
// how far (run > 0) that answer holds. DDB returns a disk database value (key with or without
// "ddb."), from the top link or, when it lacks the key, the nearest parent that has it. Methods may
// be called from several goroutines.
type logicalDisk interface {
	Size() int64
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Allocated(off, length int64) (allocated bool, run int64, err error)
	DDB(key string) (string, bool)
	Flush() error
	Close() error
}

var (
	errReadOnlyLink = errors.New("the disk is read-only: it is a snapshot's state or the parent of other disks")
	errClosedDisk   = errors.New("the disk is closed")
	errGoneDisk     = errors.New("the disk was changed underneath (no longer the VM's current disk)")
)

// fileOwner says which VM disk a datastore file belongs to.
type fileOwner struct {
	VM         types.ManagedObjectReference
	DiskKey    int32
	Descriptor string // datastore path of the descriptor of the file's link
	Leaf       bool   // the link is the VM's current, writable top
	InChain    bool   // the link is the leaf or a parent of it (what a running VM has open)
}

// owner returns the VM disk a datastore file ("[ds] dir/f.vmdk", descriptor or extent) belongs to.
func (st *diskStore) owner(dsPath string) (fileOwner, bool) {
	st.mu.Lock()
	ref, ok := st.files[dsPath]
	st.mu.Unlock()
	if !ok {
		return fileOwner{}, false
	}
	ref.vm.mu.RLock()
	defer ref.vm.mu.RUnlock()
	if ref.link.gone {
		return fileOwner{}, false
	}
	return fileOwner{VM: ref.vm.ref, DiskKey: ref.disk.key, Descriptor: ref.link.path,
		Leaf: ref.link == ref.disk.leaf, InChain: inChain(ref.disk, ref.link)}, true
}

// diskPath is the descriptor of a VM's disk: its current top, or (snapshot not nil) the file the
// snapshot's configuration names.
func (st *diskStore) diskPath(vm types.ManagedObjectReference, key int32, snapshot *types.ManagedObjectReference) (string, error) {
	v := st.vm(vm.Value)
	if v == nil {
		return "", fmt.Errorf("no VM %s", vm.Value)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, d := range v.disks {
		if d.key != key {
			continue
		}
		if snapshot == nil {
			return d.leaf.path, nil
		}
		s := v.snaps[snapshot.Value]
		if s == nil {
			return "", fmt.Errorf("no snapshot %s of %s", snapshot.Value, vm.Value)
		}
		return s.points[key].path, nil
	}
	return "", fmt.Errorf("%s has no disk %d", vm.Value, key)
}

// readRefusal applies the lock rules of a running VM to a /folder read of a datastore file: a
// powered-on VM's writable top is never served, its read-only parents only with
// --running-base-read allow. Other files (powered-off or suspended VMs, links outside the running
// chain, files no VM owns) may be read.
func (st *diskStore) readRefusal(dsPath string) (refused bool, why string) {
	return st.lockRefusal(dsPath, st.pol.runningBaseRead)
}

// lockRefusal is the lock rule itself: a powered-on VM's writable top is always refused, the
// read-only links below it only when parentsReadable is false.
func (st *diskStore) lockRefusal(dsPath string, parentsReadable bool) (refused bool, why string) {
	o, ok := st.owner(dsPath)
	if !ok || powerState(o.VM) != types.VirtualMachinePowerStatePoweredOn || !o.InChain {
		return false, ""
	}
	locked := "Unable to access file " + dsPath + " since it is locked"
	if o.Leaf {
		return true, locked + " (the running VM " + o.VM.Value + " writes it)"
	}
	if !parentsReadable {
		return true, locked + " (the running VM " + o.VM.Value + " has it open read-only)"
	}
	return false, ""
}

// openLogical opens the logical disk whose descriptor is dsPath; write opens it for writing (its
// top must then be a VM's current leaf, or a file no VM owns).
func (st *diskStore) openLogical(dsPath string, write bool) (logicalDisk, error) {
	st.mu.Lock()
	ref, owned := st.files[dsPath]
	st.mu.Unlock()
	if !owned {
		local, err := st.local(dsPath)
		if err != nil {
			return nil, err
		}
		c, err := openChain(local, write)
		if err != nil {
			return nil, err
		}
		return &plainDisk{c: c}, nil
	}
	v, d, l := ref.vm, ref.disk, ref.link
	if l.path != dsPath {
		return nil, fmt.Errorf("%s is an extent, not a disk descriptor (%s)", dsPath, l.path)
	}
	if err := st.fill(v); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case l.gone:
		return nil, errGoneDisk
	case write && l != d.leaf:
		return nil, errReadOnlyLink
	}
	c, err := st.chainOf(l)
	if err != nil {
		return nil, err
	}
	for x := l; x != nil; x = x.parent {
		x.handles++
	}
	if write {
		l.writers++
	}
	return &storeDisk{st: st, v: v, d: d, l: l, c: c, write: write}, nil
}

// storeDisk is a logical disk of a VM.
type storeDisk struct {
	st     *diskStore
	v      *vmDisks
	d      *vdisk
	l      *link
	c      *chain
	write  bool
	closed bool // guarded by v.mu
}

func (s *storeDisk) Size() int64 { return s.d.capacity }

func (s *storeDisk) ReadAt(p []byte, off int64) (int, error) {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	if s.closed {
		return 0, errClosedDisk
	}
	return readChainAt(s.c, p, off)
}

func (s *storeDisk) WriteAt(p []byte, off int64) (int, error) {
	if !s.write {
		return 0, errReadOnlyLink
	}
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	switch {
	case s.closed:
		return 0, errClosedDisk
	case s.l != s.d.leaf || s.l.gone:
		return 0, errGoneDisk
	}
	if err := s.c.writeAt(p, off); err != nil {
		return 0, err
	}
	s.d.ctk.record(off, int64(len(p)))
	return len(p), nil
}

func (s *storeDisk) Allocated(off, length int64) (bool, int64, error) {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	if s.closed {
		return false, 0, errClosedDisk
	}
	return s.c.allocated(off, length)
}

func (s *storeDisk) DDB(key string) (string, bool) {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	return chainDDB(s.c, key)
}

func (s *storeDisk) Flush() error {
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	if s.closed {
		return errClosedDisk
	}
	return s.c.sync()
}

func (s *storeDisk) Close() error {
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	if s.closed {
		return errClosedDisk
	}
	s.closed = true
	var held []*link
	for x := s.l; x != nil; x = x.parent {
		x.handles--
		held = append(held, x)
	}
	if s.write {
		s.l.writers--
	}
	err := s.c.sync()
	// Consolidation that waited for this disk to close happens now.
	for _, x := range held {
		if cerr := s.st.collapse(s.v, s.d, x); err == nil {
			err = cerr
		}
	}
	s.st.syncAll(s.v)
	return err
}

// plainDisk is a logical disk no VM owns.
type plainDisk struct {
	mu     sync.Mutex
	c      *chain
	closed bool
}

func (p *plainDisk) Size() int64 { return p.c.size() }

func (p *plainDisk) ReadAt(b []byte, off int64) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errClosedDisk
	}
	return readChainAt(p.c, b, off)
}

func (p *plainDisk) WriteAt(b []byte, off int64) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errClosedDisk
	}
	if err := p.c.writeAt(b, off); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *plainDisk) Allocated(off, length int64) (bool, int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false, 0, errClosedDisk
	}
	return p.c.allocated(off, length)
}

func (p *plainDisk) DDB(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return chainDDB(p.c, key)
}

func (p *plainDisk) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c.sync()
}

func (p *plainDisk) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosedDisk
	}
	p.closed = true
	return p.c.close()
}

// readChainAt reads like io.ReaderAt: short with io.EOF past the end of the disk.
func readChainAt(c *chain, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= c.size() {
		return 0, io.EOF
	}
	n := minInt64(int64(len(p)), c.size()-off)
	if err := c.readAt(p[:n], off); err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// chainDDB looks a disk database key up from the top of c down.
func chainDDB(c *chain, key string) (string, bool) {
	key = strings.TrimPrefix(key, "ddb.")
	for _, l := range c.links {
		if v, ok := l.desc.ddb[key]; ok {
			return v, true
		}
	}
	return "", false
}

// holdForRead readies the VM that owns a datastore file (fills its disks) and keeps its disks
// still until unlock is called; for files no VM owns it does nothing.
func (st *diskStore) holdForRead(dsPath string) (unlock func(), err error) {
	st.mu.Lock()
	ref, owned := st.files[dsPath]
	st.mu.Unlock()
	if !owned {
		return func() {}, nil
	}
	if err := st.fill(ref.vm); err != nil {
		return nil, err
	}
	ref.vm.mu.RLock()
	return ref.vm.mu.RUnlock, nil
}
