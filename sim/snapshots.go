// Concept: snapshot operations with real disks — CreateSnapshot_Task, RemoveSnapshot_Task,
// RevertToSnapshot_Task, RevertToCurrentSnapshot_Task and RemoveAllSnapshots_Task — done on the
// disk store and on vcsim's snapshot tree together, plus the power-on and destroy hooks the disks
// and Changed Block Tracking need.
//
// Design: the front door hands these calls here. Each takes the VM's disk lock, does the disk work
// (new deltas, consolidation, discarding the current delta), lets vcsim keep its snapshot tree
// (an in-process call, whose task has ended when it returns), then writes the resulting backings
// into the VM and its snapshots. A snapshot's config is a deep copy of the VM's config before the
// snapshot (vcsim's own copy is shallow and would follow the VM). A failure in the disk work
// answers a failed task of the same name, with vcsim untouched. Calls on VMs the store does not
// know go to vcsim unchanged.

package main

import (
	"context"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// snapshotter runs the snapshot operations against vcsim through an in-process client.
type snapshotter struct {
	st     *diskStore
	ctx    context.Context
	client *vim25.Client
}

// taskResponse is the body of every *_TaskResponse: the task.
type taskResponse struct {
	Returnval types.ManagedObjectReference `xml:"returnval"`
}

// failedTask records a task of name on obj that failed with fault, and returns it.
func failedTask(obj types.ManagedObjectReference, name string, fault types.BaseMethodFault) types.ManagedObjectReference {
	return simulator.CreateTask(simulator.Map.Get(obj), name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, fault
	}).Run()
}

// taskOutcome reads an ended vcsim task: its result, or its fault.
func taskOutcome(ref types.ManagedObjectReference) (types.AnyType, types.BaseMethodFault) {
	task, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok {
		return nil, &types.ManagedObjectNotFound{Obj: ref}
	}
	var (
		res   types.AnyType
		fault types.BaseMethodFault
	)
	simulator.Map.WithLock(task, func() {
		if task.Info.State == types.TaskInfoStateError && task.Info.Error != nil {
			fault = task.Info.Error.Fault
		}
		res = task.Info.Result
	})
	return res, fault
}

// snapshotVM returns the VM a snapshot belongs to (ok false: no such snapshot).
func snapshotVM(snap types.ManagedObjectReference) (types.ManagedObjectReference, bool) {
	obj, ok := simulator.Map.Get(snap).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return types.ManagedObjectReference{}, false
	}
	var vm types.ManagedObjectReference
	simulator.Map.WithLock(obj, func() { vm = obj.Vm })
	return vm, true
}

// begin finds the store's disks of vm, fills them and takes their lock (the caller unlocks).
// When the call cannot go on, v is nil and ok says who answers it: true, the failed task failed
// (a fill failure, or FileLocked while a logical disk of the VM is open for writing); false,
// vcsim (the store does not know the VM).
func (sn *snapshotter) begin(vm, taskOn types.ManagedObjectReference, name string) (v *vmDisks, failed types.ManagedObjectReference, ok bool) {
	if v = sn.st.vm(vm.Value); v == nil {
		return nil, failed, false
	}
	if err := sn.st.fill(v); err != nil {
		return nil, failedTask(taskOn, name, &types.FileFault{File: v.name}), true
	}
	v.mu.Lock()
	for _, d := range v.disks {
		if d.leaf.writers > 0 {
			v.mu.Unlock()
			return nil, failedTask(taskOn, name, &types.FileLocked{FileFault: types.FileFault{File: d.leaf.path}}), true
		}
	}
	return v, failed, true
}

// create answers CreateSnapshot_Task (ok false: pass it to vcsim).
func (sn *snapshotter) create(req *types.CreateSnapshot_Task) (types.ManagedObjectReference, bool) {
	st := sn.st
	v, failed, ok := sn.begin(req.This, req.This, "createSnapshot")
	if v == nil {
		return failed, ok
	}
	defer v.mu.Unlock()
	vm, ok := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		return types.ManagedObjectReference{}, false
	}
	var pre types.VirtualMachineConfigInfo
	simulator.Map.WithLock(vm, func() { pre = deepCopy(*vm.Config).(types.VirtualMachineConfigInfo) })

	deltas := map[int32]*link{}
	undo := func() {
		for _, d := range v.disks {
			if l := deltas[d.key]; l != nil {
				_ = st.deleteLink(l)
			}
		}
	}
	for _, d := range v.disks {
		if d.independent() {
			continue
		}
		l, err := st.createDelta(v, d, d.leaf)
		if err != nil {
			undo()
			return failedTask(req.This, "createSnapshot", &types.CannotCreateFile{FileFault: types.FileFault{File: d.leaf.path}}), true
		}
		deltas[d.key] = l
	}
	res, err := methods.CreateSnapshot_Task(sn.ctx, sn.client, req)
	if err != nil {
		undo()
		return failedTask(req.This, "createSnapshot", &types.SystemError{Reason: err.Error()}), true
	}
	result, fault := taskOutcome(res.Returnval)
	snapRef, isRef := result.(types.ManagedObjectReference)
	if fault != nil || !isRef {
		undo()
		return res.Returnval, true
	}

	s := &snapPoint{ref: snapRef, memory: req.Memory, points: map[int32]*link{}, changeIds: map[int32]string{}}
	for _, d := range v.disks {
		s.points[d.key], s.changeIds[d.key] = d.leaf, d.ctk.currentChangeId()
		d.leaf.snaps++
		if l := deltas[d.key]; l != nil {
			d.leaf = l
		}
	}
	v.snaps[snapRef.Value] = s
	st.cbtApply(v, cbtSnapshot, nil)
	if snap, ok := simulator.Map.Get(snapRef).(*simulator.VirtualMachineSnapshot); ok {
		simulator.Map.WithLock(snap, func() { snap.Config = pre })
	}
	st.syncAll(v)
	return res.Returnval, true
}

// descendants lists ref and, with children, every snapshot below it in the VM's tree.
func descendants(vm types.ManagedObjectReference, ref types.ManagedObjectReference, children bool) []types.ManagedObjectReference {
	obj, ok := simulator.Map.Get(vm).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	var out []types.ManagedObjectReference
	var walk func(tree []types.VirtualMachineSnapshotTree, below bool)
	walk = func(tree []types.VirtualMachineSnapshotTree, below bool) {
		for _, t := range tree {
			hit := t.Snapshot == ref
			if hit || below {
				out = append(out, t.Snapshot)
			}
			walk(t.ChildSnapshotList, children && (below || hit))
		}
	}
	simulator.Map.WithLock(obj, func() {
		if obj.Snapshot != nil {
			walk(obj.Snapshot.RootSnapshotList, false)
		}
	})
	return out
}

// drop removes snapshots from the store and consolidates what they kept (v.mu held).
func (st *diskStore) drop(v *vmDisks, snaps []types.ManagedObjectReference) error {
	var points []*link
	var owners []*vdisk
	for _, ref := range snaps {
		s := v.snaps[ref.Value]
		if s == nil {
			continue
		}
		delete(v.snaps, ref.Value)
		for _, d := range v.disks {
			if p := s.points[d.key]; p != nil {
				p.snaps--
				points, owners = append(points, p), append(owners, d)
			}
		}
	}
	for i, p := range points {
		if err := st.collapse(v, owners[i], p); err != nil {
			return err
		}
	}
	return nil
}

// remove answers RemoveSnapshot_Task: the snapshot (and with removeChildren those below it) is
// dropped and its delta consolidated.
func (sn *snapshotter) remove(req *types.RemoveSnapshot_Task) (types.ManagedObjectReference, bool) {
	vmRef, ok := snapshotVM(req.This)
	if !ok {
		return types.ManagedObjectReference{}, false
	}
	v, failed, ok := sn.begin(vmRef, req.This, "removeSnapshot")
	if v == nil {
		return failed, ok
	}
	defer v.mu.Unlock()
	if v.snaps[req.This.Value] == nil {
		return types.ManagedObjectReference{}, false
	}
	if err := sn.st.drop(v, descendants(vmRef, req.This, req.RemoveChildren)); err != nil {
		sn.st.syncAll(v)
		return failedTask(req.This, "removeSnapshot", &types.SystemError{Reason: err.Error()}), true
	}
	res, err := methods.RemoveSnapshot_Task(sn.ctx, sn.client, req)
	sn.st.cbtApply(v, cbtRemove, nil)
	sn.st.syncAll(v)
	if err != nil {
		return failedTask(req.This, "removeSnapshot", &types.SystemError{Reason: err.Error()}), true
	}
	return res.Returnval, true
}

// removeAll answers RemoveAllSnapshots_Task: everything consolidates into the bases.
func (sn *snapshotter) removeAll(req *types.RemoveAllSnapshots_Task) (types.ManagedObjectReference, bool) {
	v, failed, ok := sn.begin(req.This, req.This, "RemoveAllSnapshots")
	if v == nil {
		return failed, ok
	}
	defer v.mu.Unlock()
	var all []types.ManagedObjectReference
	for _, s := range v.snaps {
		all = append(all, s.ref)
	}
	if err := sn.st.drop(v, all); err != nil {
		sn.st.syncAll(v)
		return failedTask(req.This, "RemoveAllSnapshots", &types.SystemError{Reason: err.Error()}), true
	}
	res, err := methods.RemoveAllSnapshots_Task(sn.ctx, sn.client, req)
	if len(all) > 0 {
		sn.st.cbtApply(v, cbtRemove, nil)
	}
	sn.st.syncAll(v)
	if err != nil {
		return failedTask(req.This, "RemoveAllSnapshots", &types.SystemError{Reason: err.Error()}), true
	}
	return res.Returnval, true
}

// revert answers RevertToSnapshot_Task (and RevertToCurrentSnapshot_Task with snap the current
// snapshot): the current deltas are discarded and new, empty ones made on the snapshot's state;
// the VM ends in the snapshot's power state (powered off without a memory image).
func (sn *snapshotter) revert(vmRef, snap types.ManagedObjectReference, suppressPowerOn bool,
	call func() (types.ManagedObjectReference, error), name string) (types.ManagedObjectReference, bool) {
	st := sn.st
	v, failed, ok := sn.begin(vmRef, vmRef, name)
	if v == nil {
		return failed, ok
	}
	defer v.mu.Unlock()
	s := v.snaps[snap.Value]
	if s == nil {
		return types.ManagedObjectReference{}, false
	}
	fresh := map[int32]*link{}
	undo := func() {
		for _, made := range fresh {
			_ = st.deleteLink(made)
		}
	}
	for _, d := range v.disks {
		if d.independent() {
			continue
		}
		l, err := st.createDelta(v, d, s.points[d.key])
		if err != nil {
			undo()
			return failedTask(vmRef, name, &types.CannotCreateFile{FileFault: types.FileFault{File: s.points[d.key].path}}), true
		}
		fresh[d.key] = l
	}
	task, err := call()
	if err != nil {
		undo()
		return failedTask(vmRef, name, &types.SystemError{Reason: err.Error()}), true
	}
	if _, fault := taskOutcome(task); fault != nil {
		undo()
		return task, true
	}
	for _, d := range v.disks {
		if l := fresh[d.key]; l != nil {
			old := d.leaf
			d.leaf = l
			if err := st.collapse(v, d, old); err != nil {
				verbose.Printf("revert %s: %v", v.name, err)
			}
		}
	}
	st.cbtApply(v, cbtRevert, s)
	st.syncAll(v)
	sn.restorePower(v, snap, s, suppressPowerOn)
	return task, true
}

// restorePower gives the VM the power state its snapshot was taken in: off unless the snapshot
// has a memory image of a running VM (v.mu held).
func (sn *snapshotter) restorePower(v *vmDisks, snap types.ManagedObjectReference, s *snapPoint, suppressPowerOn bool) {
	var was types.VirtualMachinePowerState
	if obj, ok := simulator.Map.Get(v.ref).(*simulator.VirtualMachine); ok {
		simulator.Map.WithLock(obj, func() {
			var find func(tree []types.VirtualMachineSnapshotTree)
			find = func(tree []types.VirtualMachineSnapshotTree) {
				for _, t := range tree {
					if t.Snapshot == snap {
						was = t.State
					}
					find(t.ChildSnapshotList)
				}
			}
			if obj.Snapshot != nil {
				find(obj.Snapshot.RootSnapshotList)
			}
		})
	}
	want := types.VirtualMachinePowerStatePoweredOff
	if s.memory && was == types.VirtualMachinePowerStatePoweredOn && !suppressPowerOn {
		want = types.VirtualMachinePowerStatePoweredOn
	}
	now := powerState(v.ref)
	switch {
	case want == now:
	case want == types.VirtualMachinePowerStatePoweredOff:
		if res, err := methods.PowerOffVM_Task(sn.ctx, sn.client, &types.PowerOffVM_Task{This: v.ref}); err == nil {
			_, _ = taskOutcome(res.Returnval)
		}
	case now == types.VirtualMachinePowerStatePoweredOff:
		if res, err := methods.PowerOnVM_Task(sn.ctx, sn.client, &types.PowerOnVM_Task{This: v.ref}); err == nil {
			_, _ = taskOutcome(res.Returnval)
			sn.st.cbtApply(v, cbtPowerOn, nil)
			sn.st.syncVM(v)
		}
	}
}

// poweredOn makes CBT settings take effect after a VM was powered on.
func (sn *snapshotter) poweredOn(vm types.ManagedObjectReference) {
	v := sn.st.vm(vm.Value)
	if v == nil {
		return
	}
	v.mu.Lock()
	sn.st.cbtApply(v, cbtPowerOn, nil)
	v.mu.Unlock()
	sn.st.syncVM(v)
}

// currentSnapshot is the VM's current snapshot (ok false: none).
func currentSnapshot(vm types.ManagedObjectReference) (types.ManagedObjectReference, bool) {
	obj, ok := simulator.Map.Get(vm).(*simulator.VirtualMachine)
	if !ok {
		return types.ManagedObjectReference{}, false
	}
	var cur *types.ManagedObjectReference
	simulator.Map.WithLock(obj, func() {
		if obj.Snapshot != nil {
			cur = obj.Snapshot.CurrentSnapshot
		}
	})
	if cur == nil {
		return types.ManagedObjectReference{}, false
	}
	return *cur, true
}
