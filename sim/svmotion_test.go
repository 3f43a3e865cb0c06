// Concept: tests of the simulated Storage vMotion and its hold on RelocateVM_Task (DESIGN.md point 5).

package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func taskInfo(t *testing.T, c *vim25.Client, task types.ManagedObjectReference) types.TaskInfo {
	t.Helper()
	var m mo.Task
	if err := property.DefaultCollector(c).RetrieveOne(context.Background(), task, []string{"info"}, &m); err != nil {
		t.Fatal(err)
	}
	return m.Info
}

func TestRelocateHoldsUntilTheMoveEnds(t *testing.T) {
	s := startSim(t, "--relocate-seconds", "1")
	ctx := context.Background()
	mover, backup := s.admin(t), s.admin(t)
	vm := s.vm(t, 0)

	var current mo.VirtualMachine
	if err := property.DefaultCollector(mover).RetrieveOne(ctx, vm, []string{"datastore"}, &current); err != nil {
		t.Fatal(err)
	}
	spec := types.VirtualMachineRelocateSpec{Datastore: &current.Datastore[0]}
	began := time.Now()
	task, err := object.NewVirtualMachine(mover, vm).Relocate(ctx, spec, types.VirtualMachineMovePriorityDefaultPriority)
	if err != nil {
		t.Fatal(err)
	}
	if info := taskInfo(t, mover, task.Reference()); info.State != types.TaskInfoStateRunning || info.Entity == nil || *info.Entity != vm {
		t.Fatalf("task while moving: %+v", info)
	}
	if d := s.disabled(t); len(d) != 1 || d[0].Source != svMotionSource || d[0].Session != "" || d[0].Entity != vm.Value {
		t.Fatalf("hold: %+v", d)
	}
	if got := disabledMethods(t, backup, vm); !contains(got, relocateMethod) {
		t.Fatalf("disabledMethod during the move: %v", got)
	}

	if f := faultOf[types.MethodAlreadyDisabledFault](t, disable(backup, "backup", vm)); f.SourceId != svMotionSource {
		t.Fatalf("sourceId %q", f.SourceId)
	}
	_, err = object.NewVirtualMachine(backup, vm).Relocate(ctx, types.VirtualMachineRelocateSpec{}, "")
	if f := faultOf[types.MethodDisabled](t, err); f.Source != svMotionSource {
		t.Fatalf("second relocate: source %q", f.Source)
	}

	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 900*time.Millisecond {
		t.Fatalf("the move took %v, want about 1s", took)
	}
	if info := taskInfo(t, mover, task.Reference()); info.State != types.TaskInfoStateSuccess || info.Progress != 100 || info.CompleteTime == nil {
		t.Fatalf("task after the move: %+v", info)
	}
	waitFor(t, 2*time.Second, "the hold to end", func() bool { return len(s.disabled(t)) == 0 })
	if err := disable(backup, "backup", vm); err != nil {
		t.Fatalf("disable after the move: %v", err)
	}
}

func TestRelocateRejectsABadSpec(t *testing.T) {
	s := startSim(t)
	vm := s.vm(t, 0)
	bad := types.VirtualMachineRelocateSpec{Datastore: &vm} // a VM is no datastore
	_, err := object.NewVirtualMachine(s.admin(t), vm).Relocate(context.Background(), bad, "")
	if f := faultOf[types.InvalidArgument](t, err); f.InvalidProperty != "spec.datastore" {
		t.Fatalf("fault %+v", f)
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("hold after a refused move: %+v", d)
	}
}

func TestAdminRelocate(t *testing.T) {
	s := startSim(t)
	vm := s.vm(t, 1)
	var res map[string]string
	if code := s.call(t, http.MethodPost, "/relocate", map[string]interface{}{"vm": vm.Value, "seconds": 0.5}, &res); code != http.StatusOK || res["task"] == "" {
		t.Fatalf("relocate: %d %v", code, res)
	}
	if d := s.disabled(t); len(d) != 1 || d[0].Source != svMotionSource {
		t.Fatalf("hold: %+v", d)
	}
	c := s.admin(t)
	faultOf[types.MethodAlreadyDisabledFault](t, disable(c, "backup", vm))
	waitFor(t, 3*time.Second, "the move to end", func() bool { return len(s.disabled(t)) == 0 })
	task := types.ManagedObjectReference{Type: "Task", Value: res["task"]}
	if info := taskInfo(t, c, task); info.State != types.TaskInfoStateSuccess {
		t.Fatalf("task %+v", info)
	}

	if code := s.call(t, http.MethodPost, "/relocate", map[string]string{"vm": "vm-999999"}, nil); code != http.StatusNotFound {
		t.Fatalf("unknown vm: %d", code)
	}
	if code := s.call(t, http.MethodPost, "/relocate", map[string]string{}, nil); code != http.StatusBadRequest {
		t.Fatalf("no vm: %d", code)
	}
}

func TestSvMotionHoldOff(t *testing.T) {
	s := startSim(t, "--svmotion-hold", "off", "--relocate-seconds", "1")
	vm := s.vm(t, 0)
	if code := s.call(t, http.MethodPost, "/relocate", map[string]string{"vm": vm.Value}, nil); code != http.StatusOK {
		t.Fatalf("relocate: %d", code)
	}
	if err := disable(s.admin(t), "backup", vm); err != nil {
		t.Fatalf("disable during a move without hold: %v", err)
	}
}
