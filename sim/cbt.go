// Concept: Changed Block Tracking — when it comes into effect, the changeId of every disk
// backing, the record of written areas, and QueryChangedDiskAreas (remote-disk.md §4).
//
// Design: each disk under CBT has a change-tracking id (a fresh random UUID, shown as vSphere's
// "52 de 4e ... 30 63-5a 5a ... 55 07") and numbered epochs. Writes to the disk's leaf are recorded,
// rounded out to policy.cbtBlock, in the open epoch. A snapshot, a snapshot removal and a power-on
// close the open epoch; the changeId "<uuid>/<n>" names the state at the end of epoch n: a
// snapshot's config carries the changeId of the epoch its creation closed, the VM's current
// backing that of the open epoch. A new epoch's parent is the epoch it continues (after a revert,
// the reverted-to snapshot's), so "changed since X, as of Y" is the union of the epochs from Y up
// to X, and X must be an ancestor of Y. changeTrackingEnabled takes effect at the next snapshot
// create/remove/revert or power-on: a snapshot taken at that moment has no changeId (its state
// predates tracking). Turning CBT off, or POST /cbt/reset, drops the record: older changeIds fault.

package main

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// CBT fault message keys, as hostd sends them in FileFault.faultMessage.
const (
	cbtNoTrack         = "vim.hostd.vmsvc.cbt.noTrack"
	cbtCannotGetChange = "vim.hostd.vmsvc.cbt.cannotGetChanges"
)

type ctkState struct {
	uuid   string
	block  int64
	cur    int // the open epoch
	next   int
	epochs map[int]*epoch
}

type epoch struct {
	parent  int // 0: none
	written []extentRun
}

func newCtk(pol *policy) *ctkState {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0] = 0x52
	parts := make([]string, 16)
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return &ctkState{
		uuid:  strings.Join(parts[:8], " ") + "-" + strings.Join(parts[8:], " "),
		block: pol.cbtBlock, cur: 1, next: 2, epochs: map[int]*epoch{1: {}},
	}
}

// currentChangeId is the changeId of the VM's current backing ("" without CBT).
func (c *ctkState) currentChangeId() string {
	if c == nil {
		return ""
	}
	return c.changeId(c.cur)
}

func (c *ctkState) changeId(e int) string {
	return c.uuid + "/" + strconv.Itoa(e)
}

// record notes a write of [off, off+n).
func (c *ctkState) record(off, n int64) {
	if c == nil || n <= 0 {
		return
	}
	start, end := off/c.block*c.block, alignUp(off+n, c.block)
	e := c.epochs[c.cur]
	e.written = addRun(e.written, extentRun{start, end - start})
}

// open starts a new epoch continuing from parent and returns it.
func (c *ctkState) open(parent int) int {
	n := c.next
	c.next++
	c.epochs[n] = &epoch{parent: parent}
	c.cur = n
	return n
}

// changedSince returns the areas written after the state of epoch since, as of the state of
// epoch to (ok false: since is not an earlier state of to).
func (c *ctkState) changedSince(to, since int) ([]extentRun, bool) {
	if since <= 0 {
		return nil, false
	}
	var out []extentRun
	for e := to; e != since; {
		ep, ok := c.epochs[e]
		if !ok || e == 0 {
			return nil, false
		}
		for _, r := range ep.written {
			out = addRun(out, r)
		}
		e = ep.parent
	}
	return out, true
}

var changeIdPattern = regexp.MustCompile(`^((?:[0-9a-fA-F]{2} ){7}[0-9a-fA-F]{2}-(?:[0-9a-fA-F]{2} ){7}[0-9a-fA-F]{2})/([0-9]{1,9})$`)

// parseChangeId splits "<uuid>/<n>" (ok false: not a changeId's shape).
func parseChangeId(s string) (string, int, bool) {
	m := changeIdPattern.FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	n, _ := strconv.Atoi(m[2])
	return strings.ToLower(m[1]), n, true
}

// addRun inserts r into the sorted, disjoint runs, merging what touches it.
func addRun(runs []extentRun, r extentRun) []extentRun {
	i := sort.Search(len(runs), func(i int) bool { return runs[i].Offset+runs[i].Length >= r.Offset })
	j := i
	start, end := r.Offset, r.Offset+r.Length
	for j < len(runs) && runs[j].Offset <= end {
		if runs[j].Offset < start {
			start = runs[j].Offset
		}
		if e := runs[j].Offset + runs[j].Length; e > end {
			end = e
		}
		j++
	}
	merged := extentRun{start, end - start}
	out := append(runs[:i:i], merged)
	return append(out, runs[j:]...)
}

// cbtEvent is what changes the tracking of a VM's disks.
type cbtEvent int

const (
	cbtSnapshot cbtEvent = iota // a snapshot was taken: close the epoch
	cbtRemove                   // a snapshot was removed: close the epoch
	cbtRevert                   // reverted: continue from the snapshot's state
	cbtPowerOn
)

// cbtApply makes changeTrackingEnabled take effect and moves the epochs for ev (revert: to
// snapshot s). v.mu must be held; the caller syncs the backings.
func (st *diskStore) cbtApply(v *vmDisks, ev cbtEvent, s *snapPoint) {
	enabled := false
	if vm, ok := simulator.Map.Get(v.ref).(*simulator.VirtualMachine); ok {
		simulator.Map.WithLock(vm, func() {
			enabled = vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		})
	}
	switch {
	case enabled && !v.cbtOn:
		v.cbtOn = true
		for _, d := range v.disks {
			d.ctk = newCtk(st.pol)
		}
		return
	case !enabled:
		v.cbtOn = false
		for _, d := range v.disks {
			d.ctk = nil
		}
		return
	}
	for _, d := range v.disks {
		c := d.ctk
		switch ev {
		case cbtRevert:
			if u, e, ok := parseChangeId(s.changeIds[d.key]); ok && u == c.uuid {
				c.open(e)
			} else {
				c.open(0) // the snapshot predates this tracking: nothing connects to it
			}
		case cbtSnapshot, cbtRemove, cbtPowerOn:
			c.open(c.cur)
		}
	}
}

// cbtReset drops the change record of a VM's disks (POST /cbt/reset): every changeId handed out
// so far is stale. It returns the new current changeIds.
func (st *diskStore) cbtReset(v *vmDisks) map[string]string {
	v.mu.Lock()
	out := map[string]string{}
	for _, d := range v.disks {
		if d.ctk != nil {
			d.ctk = newCtk(st.pol)
			out[strconv.Itoa(int(d.key))] = d.ctk.currentChangeId()
		}
	}
	v.mu.Unlock()
	st.syncVM(v)
	return out
}

// queryChanged answers QueryChangedDiskAreas.
func (st *diskStore) queryChanged(req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, types.BaseMethodFault, string) {
	v := st.vm(req.This.Value)
	if v == nil {
		return nil, &types.ManagedObjectNotFound{Obj: req.This}, "The object has already been deleted or has not been completely created"
	}
	if err := st.fill(v); err != nil {
		return nil, &types.FileFault{File: v.name}, err.Error()
	}
	power := powerState(v.ref)
	v.mu.RLock()
	defer v.mu.RUnlock()
	var d *vdisk
	for _, x := range v.disks {
		if x.key == req.DeviceKey {
			d = x
		}
	}
	if d == nil {
		return nil, &types.InvalidArgument{InvalidProperty: "deviceKey"}, "A specified parameter was not correct: deviceKey"
	}
	fileFault := func(key, msg string) (*types.DiskChangeInfo, types.BaseMethodFault, string) {
		f := &types.FileFault{File: d.leaf.path}
		f.FaultMessage = []types.LocalizableMessage{{Key: key, Message: msg}}
		return nil, f, "Error caused by file " + d.leaf.path
	}
	c := d.ctk
	if !v.cbtOn || c == nil {
		return fileFault(cbtNoTrack, "Change tracking is not active on the disk")
	}
	top, point := d.leaf, c.cur
	if req.Snapshot != nil {
		s := v.snaps[req.Snapshot.Value]
		if s == nil {
			return nil, &types.InvalidArgument{InvalidProperty: "snapshot"}, "A specified parameter was not correct: snapshot"
		}
		u, e, ok := parseChangeId(s.changeIds[d.key])
		if !ok || u != c.uuid {
			return fileFault(cbtNoTrack, "The snapshot was taken without change tracking")
		}
		top, point = s.points[d.key], e
	} else if power != types.VirtualMachinePowerStatePoweredOff {
		return nil, &types.FileLocked{FileFault: types.FileFault{File: d.leaf.path}},
			"Unable to access file " + d.leaf.path + " since it is locked"
	}
	if req.StartOffset < 0 || req.StartOffset >= d.capacity {
		return nil, &types.InvalidArgument{InvalidProperty: "startOffset"}, "A specified parameter was not correct: startOffset"
	}
	var runs []extentRun
	if req.ChangeId == "*" {
		ch, err := st.chainOf(top)
		if err != nil {
			return fileFault(cbtCannotGetChange, err.Error())
		}
		alloc, err := ch.allocatedRuns(0, d.capacity)
		if err != nil {
			return fileFault(cbtCannotGetChange, err.Error())
		}
		for _, r := range alloc {
			start := r.Offset / c.block * c.block
			runs = addRun(runs, extentRun{start, minInt64(alignUp(r.Offset+r.Length, c.block), d.capacity) - start})
		}
	} else {
		u, e, ok := parseChangeId(req.ChangeId)
		if !ok {
			return nil, &types.InvalidArgument{InvalidProperty: "changeId"}, "A specified parameter was not correct: changeId"
		}
		if u != c.uuid {
			return fileFault(cbtCannotGetChange, "The change tracking id is unknown or was reset")
		}
		if runs, ok = c.changedSince(point, e); !ok {
			return fileFault(cbtCannotGetChange, "The changeId is not an earlier state of this disk")
		}
	}
	return pageAreas(runs, req.StartOffset, d.capacity), nil, ""
}

// pageAreas cuts the sorted runs to those from start on, at most cbtMaxAreas of them; the answer
// covers up to the end of the disk, or up to the end of its last area when it was cut.
func pageAreas(runs []extentRun, start, capacity int64) *types.DiskChangeInfo {
	info := &types.DiskChangeInfo{StartOffset: start, Length: capacity - start}
	for _, r := range runs {
		end := minInt64(r.Offset+r.Length, capacity)
		if end <= start {
			continue
		}
		if len(info.ChangedArea) == cbtMaxAreas {
			last := info.ChangedArea[len(info.ChangedArea)-1]
			info.Length = last.Start + last.Length - start
			break
		}
		off := r.Offset
		if off < start {
			off = start
		}
		info.ChangedArea = append(info.ChangedArea, types.DiskChangeExtent{Start: off, Length: end - off})
	}
	return info
}

// powerState is a VM's runtime.powerState ("" for an unknown VM).
func powerState(ref types.ManagedObjectReference) types.VirtualMachinePowerState {
	var s types.VirtualMachinePowerState
	if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
		simulator.Map.WithLock(vm, func() { s = vm.Runtime.PowerState })
	}
	return s
}
