// Concept: simulated Storage vMotion (DESIGN.md point 5) — every RelocateVM_Task takes a set time;
// while it runs the simulator holds RelocateVM_Task on the VM under svMotionSource, so other
// sources' DisableMethods fail with MethodAlreadyDisabledFault until the move ends.

package main

import (
	"context"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

const relocateMethod = "RelocateVM_Task"

type mover struct {
	ctx      context.Context // cancelled at shutdown: running moves stop where they are
	client   *vim25.Client   // in-process client that performs the move in vcsim at the end
	disables *disableTable
	pol      *policy
}

// checkRelocate answers the fault for a relocation vcsim cannot perform (it panics on such specs).
func checkRelocate(vm types.ManagedObjectReference, spec types.VirtualMachineRelocateSpec) types.BaseMethodFault {
	if _, ok := simulator.Map.Get(vm).(*simulator.VirtualMachine); !ok {
		return &types.ManagedObjectNotFound{Obj: vm}
	}
	check := func(ref *types.ManagedObjectReference, property string, ok func(interface{}) bool) types.BaseMethodFault {
		if ref != nil && !ok(simulator.Map.Get(*ref)) {
			return &types.InvalidArgument{InvalidProperty: property}
		}
		return nil
	}
	for _, f := range []types.BaseMethodFault{
		check(spec.Datastore, "spec.datastore", func(o interface{}) bool { _, ok := o.(*simulator.Datastore); return ok }),
		check(spec.Pool, "spec.pool", func(o interface{}) bool { _, ok := o.(*simulator.ResourcePool); return ok }),
		check(spec.Host, "spec.host", func(o interface{}) bool { _, ok := o.(*simulator.HostSystem); return ok }),
		check(spec.Folder, "spec.folder", func(o interface{}) bool { _, ok := o.(*simulator.Folder); return ok }),
	} {
		if f != nil {
			return f
		}
	}
	return nil
}

// start begins moving vm for d and returns its task, which runs until the move ends.
func (m *mover) start(vm types.ManagedObjectReference, spec types.VirtualMachineRelocateSpec,
	priority types.VirtualMachineMovePriority, d time.Duration) (types.ManagedObjectReference, types.BaseMethodFault) {
	if f := checkRelocate(vm, spec); f != nil {
		return types.ManagedObjectReference{}, f
	}

	held := m.pol.svMotionHold && m.disables.hold(vm, relocateMethod, svMotionSource)

	// The task's lifecycle is driven here rather than by Task.Run, which would block the caller.
	task := simulator.CreateTask(simulator.Map.Get(vm), "relocateVm", nil)
	updateTask(task,
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
		types.PropertyChange{Name: "info.startTime", Val: time.Now()},
		types.PropertyChange{Name: "info.progress", Val: int32(0)})

	go func() {
		if held {
			defer m.disables.release(vm, relocateMethod, svMotionSource)
		}
		const steps = 10
		for i := 1; i <= steps; i++ {
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(d / steps):
			}
			if i < steps {
				updateTask(task, types.PropertyChange{Name: "info.progress", Val: int32(i * 100 / steps)})
			}
		}

		result := []types.PropertyChange{
			{Name: "info.state", Val: types.TaskInfoStateSuccess},
			{Name: "info.progress", Val: int32(100)},
		}
		if err := m.relocate(vm, spec, priority); err != nil {
			result = []types.PropertyChange{
				{Name: "info.state", Val: types.TaskInfoStateError},
				{Name: "info.error", Val: types.LocalizedMethodFault{
					Fault: &types.SystemError{Reason: err.Error()}, LocalizedMessage: err.Error()}},
			}
		}
		updateTask(task, append(result, types.PropertyChange{Name: "info.completeTime", Val: time.Now()})...)
	}()

	return task.Self, nil
}

// relocate performs the move in vcsim itself (inventory changes only; files stay where they are).
func (m *mover) relocate(vm types.ManagedObjectReference, spec types.VirtualMachineRelocateSpec,
	priority types.VirtualMachineMovePriority) error {
	task, err := object.NewVirtualMachine(m.client, vm).Relocate(m.ctx, spec, priority)
	if err != nil {
		return err
	}
	return task.Wait(m.ctx)
}

func updateTask(task *simulator.Task, changes ...types.PropertyChange) {
	simulator.Map.WithLock(task, func() {
		simulator.Map.Update(task, changes)
	})
}
