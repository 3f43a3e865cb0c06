// Concept: tests of DisableMethods / EnableMethods semantics (DESIGN.md points 1, 2 and 4).

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func disabledMethods(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference) []string {
	t.Helper()
	var m mo.VirtualMachine
	if err := property.DefaultCollector(c).RetrieveOne(context.Background(), vm, []string{"disabledMethod"}, &m); err != nil {
		t.Fatal(err)
	}
	return m.DisabledMethod
}

func TestDisableSameSourceIsIdempotent(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)

	if err := disable(c, "backup", vm); err != nil {
		t.Fatal(err)
	}
	before := s.disabled(t)
	if err := disable(c, "backup", vm); err != nil {
		t.Fatalf("same source again: %v", err)
	}
	after := s.disabled(t)
	if len(before) != 1 || len(after) != 1 || before[0] != after[0] {
		t.Fatalf("table changed: %+v -> %+v", before, after)
	}
	r := after[0]
	if r.Entity != vm.Value || r.Method != relocateMethod || r.Source != "backup" || r.Reason != "backup" ||
		r.SessionScoped || r.Session != sessionKey(t, c) {
		t.Fatalf("record %+v", r)
	}
	if got := disabledMethods(t, c, vm); !contains(got, relocateMethod) {
		t.Fatalf("disabledMethod = %v", got)
	}
}

func TestDisableSameSourceFaultPolicy(t *testing.T) {
	s := startSim(t, "--same-source-disable", "fault")
	c := s.admin(t)
	vm := s.vm(t, 0)
	if err := disable(c, "backup", vm); err != nil {
		t.Fatal(err)
	}
	if f := faultOf[types.MethodAlreadyDisabledFault](t, disable(c, "backup", vm)); f.SourceId != "backup" {
		t.Fatalf("sourceId %q", f.SourceId)
	}
}

func TestDisableConflictIsAtomic(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm0, vm1, vm2 := s.vm(t, 0), s.vm(t, 1), s.vm(t, 2)

	if err := disable(c, "first", vm1); err != nil {
		t.Fatal(err)
	}
	err := disable(c, "second", vm0, vm1, vm2)
	if f := faultOf[types.MethodAlreadyDisabledFault](t, err); f.SourceId != "first" {
		t.Fatalf("sourceId %q, want the holder", f.SourceId)
	}
	if d := s.disabled(t); len(d) != 1 || d[0].Entity != vm1.Value || d[0].Source != "first" {
		t.Fatalf("a failed call changed the table: %+v", d)
	}
	for _, vm := range refs(vm0, vm2) {
		if got := disabledMethods(t, c, vm); contains(got, relocateMethod) {
			t.Fatalf("%s disabledMethod = %v", vm, got)
		}
	}
}

func TestDisableUnknownEntity(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	ghost := types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-999999"}
	f := faultOf[types.ManagedObjectNotFound](t, disable(c, "backup", s.vm(t, 0), ghost))
	if f.Obj != ghost {
		t.Fatalf("obj %v", f.Obj)
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("table changed: %+v", d)
	}
	faultOf[types.ManagedObjectNotFound](t, enable(c, "backup", ghost))
}

func TestEnableBySourceAndWithoutSource(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm0, vm1 := s.vm(t, 0), s.vm(t, 1)
	if err := disable(c, "a", vm0); err != nil {
		t.Fatal(err)
	}
	if err := disable(c, "b", vm1); err != nil {
		t.Fatal(err)
	}

	// Another source's enable leaves the disable alone; enabling what is not disabled succeeds.
	if err := enable(c, "b", vm0); err != nil {
		t.Fatal(err)
	}
	if len(s.disabled(t)) != 2 {
		t.Fatalf("enable by another source removed a disable: %+v", s.disabled(t))
	}
	if err := enable(c, "a", vm0); err != nil {
		t.Fatal(err)
	}
	if d := s.disabled(t); len(d) != 1 || d[0].Source != "b" {
		t.Fatalf("after enable by a: %+v", d)
	}
	if got := disabledMethods(t, c, vm0); contains(got, relocateMethod) {
		t.Fatalf("disabledMethod still lists it: %v", got)
	}
	// An empty sourceId removes every source's disables.
	if err := disable(c, "c", vm0); err != nil {
		t.Fatal(err)
	}
	if err := enable(c, "", vm0, vm1); err != nil {
		t.Fatal(err)
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("after enable without source: %+v", d)
	}
}

func TestOwningSessionMayCallDisabledMethod(t *testing.T) {
	s := startSim(t, "--relocate-seconds", "0.2")
	owner, other := s.admin(t), s.admin(t)
	ctx := context.Background()
	vm := s.vm(t, 0)
	if err := disable(owner, "backup", vm); err != nil {
		t.Fatal(err)
	}

	_, err := object.NewVirtualMachine(other, vm).Relocate(ctx, types.VirtualMachineRelocateSpec{}, "")
	f := faultOf[types.MethodDisabled](t, err)
	if f.Source != "backup" {
		t.Fatalf("source %q", f.Source)
	}
	if msg := err.Error(); !strings.Contains(msg, "The method is disabled by 'backup'") {
		t.Fatalf("message %q", msg)
	}

	task, err := object.NewVirtualMachine(owner, vm).Relocate(ctx, types.VirtualMachineRelocateSpec{}, "")
	if err != nil {
		t.Fatalf("owner relocate: %v", err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if d := s.disabled(t); len(d) != 1 || d[0].Source != "backup" {
		t.Fatalf("after owner's relocate: %+v", d)
	}

	// Any disabled method is enforced, not just RelocateVM_Task.
	err = authz(owner).DisableMethods(ctx, refs(vm), []object.DisabledMethodRequest{{Method: "PowerOffVM_Task"}}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	_, err = object.NewVirtualMachine(other, vm).PowerOff(ctx)
	if f := faultOf[types.MethodDisabled](t, err); f.Source != "ops" {
		t.Fatalf("source %q", f.Source)
	}
}
