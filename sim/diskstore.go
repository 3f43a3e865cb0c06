// Concept: the disk store — which disks every VM has, the tree of links (base and deltas) each
// disk is made of and the files of those links on the datastores: the one place where disks are
// created at start-up, filled with their seed content, and where links are added, merged and
// deleted.
//
// Design: a disk is a tree of links. The base is a vmfs descriptor plus a thin flat extent; every
// snapshot adds a delta under the VM's current top (the leaf, the only writable link) and records
// the old top as that snapshot's point. A link is kept while anything uses it: the VM (its leaf),
// a snapshot (its point), children, open logical disks. When the last user of a link goes, collapse
// merges or deletes it the way consolidation does: an unused delta without children is deleted; an
// unused link with one child takes the child's data (child into parent, so deleting every snapshot
// ends on the base) and the child's users. Files are created ESXi's way (x.vmdk + x-flat.vmdk,
// x-00000N.vmdk + x-00000N-sesparse.vmdk / -delta.vmdk) in the VM's directory.
//
// A disk's seed content is written the first time anything touches the VM's disks (fill), so
// start-up stays quick with thousands of VMs; until then the flat extents are holes of the right
// size. Locks: st.mu guards the maps; each VM's mu serialises changes of its disks (snapshot
// operations and writes take it exclusively, reads shared); vcsim's object locks are taken only
// inside, never around, a VM's mu.

package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// maxDisksPerVM is what one SCSI controller holds (units 0-15 without 7).
const maxDisksPerVM = 15

type diskStore struct {
	pol      *policy
	size     int64 // capacity of every disk created at start-up
	perVM    int
	dsDirs   map[string]string // datastore name → local directory
	dsRefs   map[string]types.ManagedObjectReference
	fillHook func(vm string, d time.Duration) // start-up figures (nil: none)

	mu    sync.Mutex
	vms   map[string]*vmDisks   // by VM moref value
	files map[string]fileRef    // datastore path of every disk file → its link
	cache map[string]*chainLink // local descriptor path → the opened link all chains share
}

type vmDisks struct {
	ref       types.ManagedObjectReference
	name      string
	hwVersion string

	fillOnce sync.Once
	fillErr  error

	mu    sync.RWMutex
	disks []*vdisk
	snaps map[string]*snapPoint // by snapshot moref value
	cbtOn bool                  // Changed Block Tracking is in effect (not just configured)
}

// snapPoint is what a snapshot keeps: per disk, the link its configuration names.
type snapPoint struct {
	ref       types.ManagedObjectReference
	memory    bool
	points    map[int32]*link
	changeIds map[int32]string
}

type vdisk struct {
	key      int32
	capacity int64
	uuid     string // backing uuid, "6000C29x-..."
	seed     uint64
	mode     string // diskMode
	ds       string // datastore name
	dir      string // directory in the datastore
	name     string // file base: "DC0_H0_VM0", "DC0_H0_VM0_1"
	base     *link
	leaf     *link
	ctk      *ctkState // nil while CBT is not in effect
}

type link struct {
	path     string   // datastore path of the descriptor, "[ds] dir/x-000001.vmdk"
	files    []string // datastore paths, descriptor first
	format   string
	cid      uint32
	parent   *link
	children []*link
	snaps    int // snapshots whose point this is
	handles  int // open logical disks (openLogical)
	writers  int
	gone     bool
}

type fileRef struct {
	vm   *vmDisks
	disk *vdisk
	link *link
}

func newDiskStore(pol *policy, size int64, perVM int) *diskStore {
	return &diskStore{
		pol: pol, size: size, perVM: perVM,
		dsDirs: map[string]string{}, dsRefs: map[string]types.ManagedObjectReference{},
		vms: map[string]*vmDisks{}, files: map[string]fileRef{}, cache: map[string]*chainLink{},
	}
}

// adoptAll gives every VM of the inventory its disks (start-up, before any client is served).
func (st *diskStore) adoptAll() error {
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		st.dsDirs[ds.Name] = ds.Info.GetDatastoreInfo().Url
		st.dsRefs[ds.Name] = ds.Self
	}
	// Creating the files is file-system bound: several VMs at a time.
	vms := simulator.Map.All("VirtualMachine")
	work := make(chan *simulator.VirtualMachine)
	errs := make(chan error, adoptWorkers)
	for i := 0; i < adoptWorkers; i++ {
		go func() {
			var first error
			for vm := range work {
				if err := st.adopt(vm); err != nil && first == nil {
					first = fmt.Errorf("disks of %s: %v", vm.Name, err)
				}
			}
			errs <- first
		}()
	}
	for _, e := range vms {
		work <- e.(*simulator.VirtualMachine)
	}
	close(work)
	var first error
	for i := 0; i < adoptWorkers; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// adoptWorkers is how many VMs get their disk files at once at start-up.
const adoptWorkers = 8

// adopt replaces the (empty) disk vcsim gave a VM by st.perVM real disks with keys 2000, 2001, ...
func (st *diskStore) adopt(vm *simulator.VirtualMachine) error {
	var (
		devices  object.VirtualDeviceList
		vmx      string
		template *types.VirtualDisk
	)
	v := &vmDisks{snaps: map[string]*snapPoint{}}
	simulator.Map.WithLock(vm, func() {
		v.ref, v.name = vm.Self, vm.Name
		v.hwVersion = strings.TrimPrefix(vm.Config.Version, "vmx-")
		vmx = vm.Config.Files.VmPathName
		devices = object.VirtualDeviceList(vm.Config.Hardware.Device)
	})
	var rest []types.BaseVirtualDevice
	for _, dev := range devices {
		if d, ok := dev.(*types.VirtualDisk); ok {
			if template == nil {
				template = d
			}
			st.removePlaceholder(d)
			continue
		}
		rest = append(rest, dev)
	}
	var p object.DatastorePath
	if !p.FromString(vmx) || st.dsDirs[p.Datastore] == "" {
		return fmt.Errorf("no datastore for %q", vmx)
	}
	if template == nil && st.perVM > 0 {
		return errors.New("vcsim gave the VM no disk to take the controller from")
	}
	dir := path.Dir(p.Path)
	for i := 0; i < st.perVM; i++ {
		d := &vdisk{
			key: int32(2000 + i), capacity: st.size, mode: string(types.VirtualDiskModePersistent),
			ds: p.Datastore, dir: dir, name: v.name,
		}
		if i > 0 {
			d.name = fmt.Sprintf("%s_%d", v.name, i)
		}
		d.seed = diskSeed(v.name, d.key)
		d.uuid = backingUUID(d.seed)
		base, err := st.createBase(v, d)
		if err != nil {
			return err
		}
		d.base, d.leaf = base, base
		v.disks = append(v.disks, d)
	}
	for i, d := range v.disks {
		unit := int32(i)
		if unit >= 7 {
			unit++ // unit 7 is the controller's own
		}
		rest = append(rest, &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{
				Key: d.key, ControllerKey: template.ControllerKey, UnitNumber: &unit,
				DeviceInfo: &types.Description{Label: fmt.Sprintf("Hard disk %d", i+1),
					Summary: fmt.Sprintf("%s KB", strconv.FormatInt(d.capacity/1024, 10))},
			},
			CapacityInKB: d.capacity / 1024, CapacityInBytes: d.capacity,
		})
	}
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "config.hardware.device", Val: rest},
			{Name: "summary.config.numVirtualDisks", Val: int32(len(v.disks))},
		})
	})
	st.mu.Lock()
	st.vms[v.ref.Value] = v
	st.mu.Unlock()
	st.syncVM(v)
	return nil
}

// removePlaceholder deletes the empty files vcsim created for a disk it configured.
func (st *diskStore) removePlaceholder(d *types.VirtualDisk) {
	b, ok := d.Backing.(types.BaseVirtualDeviceFileBackingInfo)
	if !ok {
		return
	}
	local, err := st.local(b.GetVirtualDeviceFileBackingInfo().FileName)
	if err != nil {
		return
	}
	_ = os.Remove(local)
	_ = os.Remove(strings.TrimSuffix(local, ".vmdk") + "-flat.vmdk")
}

// local maps a datastore path to the local file.
func (st *diskStore) local(dsPath string) (string, error) {
	var p object.DatastorePath
	if !p.FromString(dsPath) || p.Path == "" {
		return "", fmt.Errorf("bad datastore path %q", dsPath)
	}
	dir, ok := st.dsDirs[p.Datastore]
	if !ok {
		return "", fmt.Errorf("no datastore %q", p.Datastore)
	}
	clean := path.Clean("/" + p.Path)
	if clean == "/" || clean != "/"+p.Path {
		return "", fmt.Errorf("bad datastore path %q", dsPath)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// vm returns the disks of a VM (nil: unknown VM).
func (st *diskStore) vm(ref string) *vmDisks {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.vms[ref]
}

// forget drops a destroyed VM (its files are gone with its directory).
func (st *diskStore) forget(ref string) {
	st.mu.Lock()
	v := st.vms[ref]
	delete(st.vms, ref)
	st.mu.Unlock()
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, d := range v.disks {
		st.forEachLink(d, func(l *link) { st.unregister(l) })
	}
}

// forEachLink calls f on every link of d's tree.
func (st *diskStore) forEachLink(d *vdisk, f func(*link)) {
	var walk func(l *link)
	walk = func(l *link) {
		for _, c := range l.children {
			walk(c)
		}
		f(l)
	}
	walk(d.base)
}

// linkCID is the CID of link n (0: base) of a disk: derived from its seed, never 0xffffffff or
// 0xfffffffe (values with a meaning).
func linkCID(seed uint64, n int) uint32 {
	cid := uint32(mix(seed^0xC1D, uint64(n)))
	if cid >= 0xfffffffe {
		cid -= 2
	}
	return cid
}

// backingUUID is the disk's uuid as vSphere shows it (backing.uuid), from its seed.
func backingUUID(seed uint64) string {
	b := uuidBytes(seed)
	h := fmt.Sprintf("%x", b)
	return "6000C2" + h[6:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func uuidBytes(seed uint64) [16]byte {
	var b [16]byte
	x, y := mix(seed, 0x55), mix(seed, 0x56)
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
	b[0], b[1], b[2] = 0x60, 0x00, 0xc2
	return b
}

// ddbUUID is the disk's uuid as the descriptor's ddb.uuid holds it: "60 00 C2 9b ... 4e-..."
func ddbUUID(seed uint64) string {
	b := uuidBytes(seed)
	var parts []string
	for i, x := range b {
		s := fmt.Sprintf("%02x", x)
		if i == 2 {
			s = "C2"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts[:8], " ") + "-" + strings.Join(parts[8:], " ")
}

// createBase writes the vmfs descriptor and the (empty) thin flat extent of a disk.
func (st *diskStore) createBase(v *vmDisks, d *vdisk) (*link, error) {
	cyl, heads, sectors := geometry(d.capacity)
	ddb := map[string]string{
		"adapterType": "lsilogic", "deletable": "true", "thinProvisioned": "1",
		"geometry.cylinders": strconv.FormatInt(cyl, 10), "geometry.heads": strconv.FormatInt(heads, 10),
		"geometry.sectors": strconv.FormatInt(sectors, 10),
		"uuid":             ddbUUID(d.seed), "virtualHWVersion": v.hwVersion,
	}
	return st.newLink(v, d, nil, d.name, formatVmfs, linkCID(d.seed, 0), ddb)
}

// createDelta writes a new, empty delta of the configured format under parent.
func (st *diskStore) createDelta(v *vmDisks, d *vdisk, parent *link) (*link, error) {
	n := 1
	for ; ; n++ {
		name := fmt.Sprintf("%s-%06d", d.name, n)
		local, err := st.local(st.dsPath(d, name+".vmdk"))
		if err != nil {
			return nil, err
		}
		st.mu.Lock()
		_, taken := st.files[st.dsPath(d, name+".vmdk")]
		st.mu.Unlock()
		if _, err := os.Stat(local); !taken && errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	format := st.deltaSpec()
	ddb := map[string]string{
		"deletable": "true", "thinProvisioned": "1", "uuid": ddbUUID(d.seed), "virtualHWVersion": v.hwVersion,
	}
	if format == formatSESparse {
		ddb["grain"] = strconv.Itoa(seGrainSectors)
	}
	return st.newLink(v, d, parent, fmt.Sprintf("%s-%06d", d.name, n), format, linkCID(d.seed, n), ddb)
}

// deltaSpec is the format of new deltas (policy: --delta-format).
func (st *diskStore) deltaSpec() string {
	return st.pol.deltaFormat
}

func (st *diskStore) dsPath(d *vdisk, file string) string {
	return "[" + d.ds + "] " + path.Join(d.dir, file)
}

// newLink creates the files of a link and registers it under parent (nil: a base).
func (st *diskStore) newLink(v *vmDisks, d *vdisk, parent *link, name, format string, cid uint32, ddb map[string]string) (*link, error) {
	dirLocal, err := st.local(st.dsPath(d, name+".vmdk"))
	if err != nil {
		return nil, err
	}
	spec := linkSpec{dir: filepath.Dir(dirLocal), name: name, format: format, capacity: d.capacity,
		cid: cid, parentCID: noParentCID, ddb: ddb}
	if parent != nil {
		spec.parentCID, spec.parentHint = parent.cid, path.Base(strings.SplitN(parent.path, "] ", 2)[1])
	}
	locals, err := createLink(spec)
	if err != nil {
		return nil, err
	}
	l := &link{format: format, cid: cid, parent: parent}
	for _, f := range locals {
		l.files = append(l.files, st.dsPath(d, filepath.Base(f)))
	}
	l.path = l.files[0]
	if parent != nil {
		parent.children = append(parent.children, l)
	}
	st.mu.Lock()
	for _, f := range l.files {
		st.files[f] = fileRef{vm: v, disk: d, link: l}
	}
	st.mu.Unlock()
	return l, nil
}

// unregister forgets a link's files and closes its cached opened form.
func (st *diskStore) unregister(l *link) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, f := range l.files {
		delete(st.files, f)
	}
	st.evictLocked(l.path)
	l.gone = true
}

// deleteLink removes a link's files and takes it out of its parent's children.
func (st *diskStore) deleteLink(l *link) error {
	st.unregister(l)
	if p := l.parent; p != nil {
		for i, c := range p.children {
			if c == l {
				p.children = append(p.children[:i], p.children[i+1:]...)
				break
			}
		}
	}
	var first error
	for _, f := range l.files {
		local, err := st.local(f)
		if err == nil {
			err = os.Remove(local)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// evictLocked closes the cached opened link of a descriptor (st.mu held).
func (st *diskStore) evictLocked(dsPath string) {
	local, err := st.local(dsPath)
	if err != nil {
		return
	}
	if l, ok := st.cache[local]; ok {
		_ = l.data.close()
		delete(st.cache, local)
	}
}

// openLinkCached returns the shared opened form of the link whose descriptor is at local (files of
// the store are opened read-write once; who may write is decided above).
func (st *diskStore) openLinkCached(local string) (*chainLink, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if l, ok := st.cache[local]; ok {
		return l, nil
	}
	l, err := openLink(local, true)
	if err != nil {
		return nil, err
	}
	st.cache[local] = l
	return l, nil
}

// chainOf opens, from its files, the chain whose top is link l.
func (st *diskStore) chainOf(l *link) (*chain, error) {
	local, err := st.local(l.path)
	if err != nil {
		return nil, err
	}
	return openChainWith(local, st.openLinkCached)
}

// fill writes the seed content of a VM's disks into their bases, once, before anything reads or
// writes them.
func (st *diskStore) fill(v *vmDisks) error {
	v.fillOnce.Do(func() {
		began := time.Now()
		for _, d := range v.disks {
			if v.fillErr = st.fillBase(d); v.fillErr != nil {
				return
			}
		}
		if st.fillHook != nil {
			st.fillHook(v.name, time.Since(began))
		}
	})
	return v.fillErr
}

// fillBase writes the data regions of a disk's seed into its flat extent.
func (st *diskStore) fillBase(d *vdisk) error {
	local, err := st.local(d.base.files[1])
	if err != nil {
		return err
	}
	f, err := os.OpenFile(local, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, seedRegion)
	n := ceilDiv(d.capacity, seedRegion)
	for i := int64(0); i < n; i++ {
		if !regionHasData(d.seed, i, n) {
			continue
		}
		p := buf[:minInt64(seedRegion, d.capacity-i*seedRegion)]
		fillPattern(d.seed, i*seedRegion, p)
		if _, err := f.WriteAt(p, i*seedRegion); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// collapse frees what nothing uses any more, from l up: an unused delta without children is
// deleted; an unused link with one child takes the child's data and users (consolidation).
// Links with branches stay. v.mu must be held.
func (st *diskStore) collapse(v *vmDisks, d *vdisk, l *link) error {
	for l != nil && !l.gone {
		if l == d.leaf || l.snaps > 0 || l.handles > 0 {
			return nil
		}
		switch len(l.children) {
		case 0:
			if l.parent == nil {
				return nil
			}
			p := l.parent
			if err := st.deleteLink(l); err != nil {
				return err
			}
			l = p
		case 1:
			if l.children[0].handles > 0 {
				return nil
			}
			if err := st.mergeChild(v, d, l); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// mergeChild writes the data of l's only child into l, gives l the child's users and children,
// and deletes the child.
func (st *diskStore) mergeChild(v *vmDisks, d *vdisk, l *link) error {
	c := l.children[0]
	into, err := st.chainOf(l)
	if err != nil {
		return err
	}
	from, err := st.chainOf(c)
	if err != nil {
		return err
	}
	top := from.links[0].data
	buf := make([]byte, 1<<20)
	for off := int64(0); off < d.capacity; {
		state, run, err := top.state(off, minInt64(int64(len(buf)), d.capacity-off))
		if err != nil {
			return err
		}
		if state != stateHole {
			p := buf[:run]
			if err := top.readAt(p, off); err != nil { // zeros for a zero grain
				return err
			}
			if err := into.writeAt(p, off); err != nil {
				return err
			}
		}
		off += run
	}
	if err := into.sync(); err != nil {
		return err
	}
	l.snaps += c.snaps
	for _, s := range v.snaps {
		if s.points[d.key] == c {
			s.points[d.key] = l
		}
	}
	if d.leaf == c {
		d.leaf = l
	}
	l.children = c.children
	c.children = nil
	for _, g := range l.children {
		g.parent = l
		if err := st.reparent(g); err != nil {
			return err
		}
	}
	return st.deleteLink(c)
}

// reparent rewrites a link's descriptor after its parent changed.
func (st *diskStore) reparent(l *link) error {
	local, err := st.local(l.path)
	if err != nil {
		return err
	}
	cl, err := st.openLinkCached(local)
	if err != nil {
		return err
	}
	desc := *cl.desc
	desc.parentCID = l.parent.cid
	desc.parentHint = path.Base(strings.SplitN(l.parent.path, "] ", 2)[1])
	st.mu.Lock()
	st.evictLocked(l.path)
	st.mu.Unlock()
	return rewriteDescriptor(local, &desc)
}

// inChain reports whether l is d's leaf or one of its parents (the links the VM has open).
func inChain(d *vdisk, l *link) bool {
	for x := d.leaf; x != nil; x = x.parent {
		if x == l {
			return true
		}
	}
	return false
}

// chainPaths lists the descriptors from l down to the base.
func chainPaths(l *link) []string {
	var out []string
	for ; l != nil; l = l.parent {
		out = append(out, l.path)
	}
	return out
}

// independent reports whether snapshots leave a disk alone (independent disk modes).
func (d *vdisk) independent() bool {
	return strings.HasPrefix(d.mode, "independent")
}
