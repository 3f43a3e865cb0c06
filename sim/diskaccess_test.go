// Concept: tests of the interface the NFC responder uses (diskaccess.go), in-process on a vcsim
// model: openLogical on a VM's leaf, a snapshot's read-only parent and a file no VM owns; reads,
// writes, allocation and DDB through the chain; owner, diskPath and readRefusal with both
// settings of the running-base rule; FileLocked snapshots while a writer is open.

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

func TestLogicalDiskInterface(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx := context.Background()
	model := simulator.VPX()
	model.Machine = 1
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	defer model.Remove()
	client, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		t.Fatal(err)
	}
	pol := policy{deltaFormat: formatSESparse, cbtBlock: 65536}
	st := newDiskStore(&pol, 4<<20, 2)
	if err := st.adoptAll(); err != nil {
		t.Fatal(err)
	}
	vm := simulator.Map.Any("VirtualMachine").Reference()
	base, err := st.diskPath(vm, 2000, nil)
	if err != nil || !strings.HasSuffix(base, ".vmdk") {
		t.Fatalf("diskPath %q %v", base, err)
	}
	if _, err := st.diskPath(vm, 2002, nil); err == nil {
		t.Fatal("diskPath of a disk the VM lacks")
	}
	flat := strings.TrimSuffix(base, ".vmdk") + "-flat.vmdk"
	for _, f := range []string{base, flat} {
		if o, ok := st.owner(f); !ok || o.VM != vm || o.DiskKey != 2000 || !o.Leaf || !o.InChain || o.Descriptor != base {
			t.Fatalf("owner(%s) = %+v %v", f, o, ok)
		}
	}
	if refused, why := st.readRefusal(flat); !refused || !strings.Contains(why, "locked") {
		t.Fatalf("running VM's leaf not refused: %v %q", refused, why)
	}

	d, err := st.openLogical(base, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.Size() != 4<<20 {
		t.Fatalf("size %d", d.Size())
	}
	if v, ok := d.DDB("adapterType"); !ok || v != "lsilogic" {
		t.Fatalf("adapterType %q %v", v, ok)
	}
	if v, ok := d.DDB("ddb.geometry.heads"); !ok || v != "255" {
		t.Fatalf("geometry.heads %q %v", v, ok)
	}
	data := make([]byte, 3000)
	fillPattern(9, 1<<20+1000, data)
	if n, err := d.WriteAt(data, 1<<20+1000); err != nil || n != len(data) {
		t.Fatalf("write %d %v", n, err)
	}
	if alloc, _, err := d.Allocated(1<<20+1000, 1); err != nil || !alloc {
		t.Fatalf("written byte not allocated: %v", err)
	}
	if alloc, run, err := d.Allocated(1<<20+8192, 4096); err != nil || alloc || run != 4096 {
		t.Fatalf("hole: %v %d %v", alloc, run, err)
	}
	tail := make([]byte, 100)
	if n, err := d.ReadAt(tail, 4<<20-50); n != 50 || !errors.Is(err, io.EOF) {
		t.Fatalf("read past the end: %d %v", n, err)
	}
	sn := &snapshotter{st: st, ctx: ctx, client: client}
	task, ok := sn.create(&types.CreateSnapshot_Task{This: vm, Name: "while writing"})
	if _, fault := taskOutcome(task); !ok || fault == nil {
		t.Fatalf("snapshot with a writer open: %v %v", ok, fault)
	} else if _, locked := fault.(*types.FileLocked); !locked {
		t.Fatalf("snapshot with a writer open: %T", fault)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err == nil {
		t.Fatal("second Close succeeded")
	}

	task, ok = sn.create(&types.CreateSnapshot_Task{This: vm, Name: "backup"})
	res, fault := taskOutcome(task)
	if !ok || fault != nil {
		t.Fatalf("snapshot: %v %v", ok, fault)
	}
	snap := res.(types.ManagedObjectReference)
	top, _ := st.diskPath(vm, 2000, nil)
	if p, _ := st.diskPath(vm, 2000, &snap); p != base || !strings.HasSuffix(top, "-000001.vmdk") {
		t.Fatalf("after the snapshot: top %s, snapshot's %s", top, p)
	}
	if _, err := st.openLogical(base, true); !errors.Is(err, errReadOnlyLink) {
		t.Fatalf("write-open of a snapshot's base: %v", err)
	}
	if _, err := st.openLogical(strings.TrimSuffix(top, ".vmdk")+"-sesparse.vmdk", false); err == nil {
		t.Fatal("opened an extent as a disk")
	}
	r, err := st.openLogical(top, false)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := r.ReadAt(got, 1<<20+1000); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read through the delta: %v", err)
	}
	if v, ok := r.DDB("grain"); !ok || v != "8" {
		t.Fatalf("delta's grain %q %v", v, ok)
	}
	if v, ok := r.DDB("adapterType"); !ok || v != "lsilogic" {
		t.Fatalf("adapterType from the base %q %v", v, ok)
	}
	if _, err := r.WriteAt(got, 0); !errors.Is(err, errReadOnlyLink) {
		t.Fatalf("write through a read-only open: %v", err)
	}
	// A removal while a reader is open leaves the files until it closes.
	task, ok = sn.remove(&types.RemoveSnapshot_Task{This: snap})
	if _, fault := taskOutcome(task); !ok || fault != nil {
		t.Fatalf("remove: %v %v", ok, fault)
	}
	if _, err := r.ReadAt(got, 1<<20+1000); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the removal: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.diskPath(vm, 2000, nil); p != base {
		t.Fatalf("after the removal and close the disk is %s", p)
	}

	// The running-base rule.
	task, _ = sn.create(&types.CreateSnapshot_Task{This: vm, Name: "again"})
	if _, fault := taskOutcome(task); fault != nil {
		t.Fatal(fault)
	}
	if refused, _ := st.readRefusal(flat); !refused {
		t.Fatal("running VM's base served with --running-base-read refuse")
	}
	pol.runningBaseRead = true
	if refused, _ := st.readRefusal(flat); refused {
		t.Fatal("running VM's base refused with --running-base-read allow")
	}
	top, _ = st.diskPath(vm, 2000, nil)
	if refused, _ := st.readRefusal(top); !refused {
		t.Fatal("running VM's top served")
	}

	// A disk no VM owns.
	local, err := st.local(base)
	if err != nil {
		t.Fatal(err)
	}
	newTestLink(t, filepath.Dir(local), "loose", formatVmfs, 1<<20, 1, noParentCID, "")
	loose := strings.SplitN(base, "] ", 2)[0] + "] " + filepath.Base(filepath.Dir(local)) + "/loose.vmdk"
	if _, ok := st.owner(loose); ok {
		t.Fatal("a loose disk has an owner")
	}
	l, err := st.openLogical(loose, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.WriteAt(data, 10); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
