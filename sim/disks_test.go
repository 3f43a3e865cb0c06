// Concept: tests of the simulated disks through govmomi's own client and the admin endpoint —
// disks laid out as advertised, snapshots with real deltas and deep-copied configs, consolidation
// on removal, revert, guest writes into the top delta, and qemu-img agreeing with the simulator's
// hashes for every delta format and chains of two snapshots.

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

func TestDisksAsAdvertised(t *testing.T) {
	s := startSim(t, "--disks-per-vm", "3", "--disk-size", "8MiB")
	c := s.admin(t)
	for _, v := range s.vms(t) {
		if len(v.Disks) != 3 || v.PowerState != "poweredOn" {
			t.Fatalf("%s: %+v", v.Name, v)
		}
		disks := virtualDisks(t, c, types.ManagedObjectReference{Type: "VirtualMachine", Value: v.Moref})
		if len(disks) != 3 {
			t.Fatalf("%s: %d VirtualDisk devices", v.Name, len(disks))
		}
		for i, d := range disks {
			b := flatBacking(t, d)
			want := "[LocalDS_0] " + v.Name + "/" + v.Name + ".vmdk"
			if i > 0 {
				want = "[LocalDS_0] " + v.Name + "/" + v.Name + "_" + string(rune('0'+i)) + ".vmdk"
			}
			if d.Key != int32(2000+i) || b.FileName != want || d.CapacityInBytes != 8<<20 || d.CapacityInKB != 8<<10 ||
				b.ThinProvisioned == nil || !*b.ThinProvisioned || b.DiskMode != "persistent" || b.Uuid == "" ||
				b.Parent != nil || b.DeltaDiskFormat != "" || v.Disks[i].FileName != want || len(v.Disks[i].Chain) != 1 {
				t.Fatalf("%s disk %d: key %d backing %+v view %+v", v.Name, i, d.Key, b, v.Disks[i])
			}
			desc, err := os.ReadFile(s.localPath(t, b.FileName))
			if err != nil {
				t.Fatal(err)
			}
			text := string(desc)
			for _, line := range []string{`createType="vmfs"`, `RW 16384 VMFS "` + strings.TrimSuffix(filepath.Base(want), ".vmdk") + `-flat.vmdk"`,
				`ddb.adapterType = "lsilogic"`, `ddb.thinProvisioned = "1"`, `ddb.virtualHWVersion = "13"`, `ddb.geometry.heads = "255"`} {
				if !strings.Contains(text, line) {
					t.Fatalf("%s: descriptor lacks %q:\n%s", b.FileName, line, text)
				}
			}
			flat := strings.TrimSuffix(s.localPath(t, b.FileName), ".vmdk") + "-flat.vmdk"
			if st, err := os.Stat(flat); err != nil || st.Size() != 8<<20 {
				t.Fatalf("flat extent %s: %v %v", flat, st, err)
			}
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(s.localPath(t, disks[0].Backing.(*types.VirtualDiskFlatVer2BackingInfo).FileName)), "disk1.vmdk")); err == nil {
			t.Fatal("vcsim's placeholder disk1.vmdk is still there")
		}
	}
	// Seed content with holes: the second MiB region is never written.
	v := s.vms(t)[0]
	alloc := s.allocated(t, v.Moref, 2000, "")
	if len(alloc) == 0 || alloc[0].Offset != 0 {
		t.Fatalf("allocation %+v", alloc)
	}
	for _, r := range alloc {
		if r.Offset < 2<<20 && r.Offset+r.Length > 1<<20 {
			t.Fatalf("region 1 allocated: %+v", alloc)
		}
	}
	// The content is the seed stream in the allocated regions.
	want := make([]byte, 8<<20)
	seed := parseSeed(t, v.Disks[0].Seed)
	for _, r := range alloc {
		fillPattern(seed, r.Offset, want[r.Offset:r.Offset+r.Length])
	}
	if got := s.diskHash(t, v.Moref, 2000, ""); got != hexSum(want) {
		t.Fatalf("hash %s, want %s", got, hexSum(want))
	}
}

func parseSeed(t *testing.T, hexSeed string) uint64 {
	t.Helper()
	var seed uint64
	for _, ch := range hexSeed {
		seed = seed<<4 | uint64(strings.IndexRune("0123456789abcdef", ch))
	}
	return seed
}

func hexSum(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func TestSnapshotDeltaAndDeepCopy(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	v := s.vmByMoref(t, vm.Value)
	base := v.Disks[0].FileName
	baseHash := s.diskHash(t, vm.Value, 2000, "")

	s1 := snapshot(t, c, vm, "one")
	cur := flatBacking(t, virtualDisks(t, c, vm)[0])
	d1 := strings.TrimSuffix(base, ".vmdk") + "-000001.vmdk"
	if cur.FileName != d1 || cur.Parent == nil || cur.Parent.FileName != base || cur.DeltaDiskFormat != "seSparseFormat" ||
		cur.DeltaGrainSize != 4 || cur.Parent.Parent != nil || cur.Uuid != cur.Parent.Uuid {
		t.Fatalf("backing after snapshot: %+v parent %+v", cur, cur.Parent)
	}
	for _, f := range []string{d1, strings.TrimSuffix(d1, ".vmdk") + "-sesparse.vmdk"} {
		if _, err := os.Stat(s.localPath(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	desc, _ := os.ReadFile(s.localPath(t, d1))
	for _, line := range []string{`createType="seSparse"`, `parentFileNameHint="` + filepath.Base(strings.SplitN(base, "] ", 2)[1]) + `"`,
		`SESPARSE "` + filepath.Base(strings.TrimSuffix(strings.SplitN(d1, "] ", 2)[1], ".vmdk")) + `-sesparse.vmdk"`} {
		if !strings.Contains(string(desc), line) {
			t.Fatalf("delta descriptor lacks %q:\n%s", line, desc)
		}
	}
	if sb := flatBacking(t, virtualDisks(t, c, s1)[0]); sb.FileName != base || sb.Parent != nil {
		t.Fatalf("snapshot one's config: %+v", sb)
	}

	s.guestWrite(t, vm.Value, 2000, 4096, 8192, 7)
	s2 := snapshot(t, c, vm, "two")
	cur = flatBacking(t, virtualDisks(t, c, vm)[0])
	d2 := strings.TrimSuffix(base, ".vmdk") + "-000002.vmdk"
	if cur.FileName != d2 || cur.Parent.FileName != d1 || cur.Parent.Parent.FileName != base {
		t.Fatalf("chain after two snapshots: %+v", cur)
	}
	// Deep copy: the first snapshot's config did not follow the VM.
	if sb := flatBacking(t, virtualDisks(t, c, s1)[0]); sb.FileName != base {
		t.Fatalf("snapshot one now names %s", sb.FileName)
	}
	if sb := flatBacking(t, virtualDisks(t, c, s2)[0]); sb.FileName != d1 || sb.Parent.FileName != base {
		t.Fatalf("snapshot two's config: %+v", sb)
	}
	if got := s.diskHash(t, vm.Value, 2000, s1.Value); got != baseHash {
		t.Fatal("snapshot one's content changed")
	}
}

func TestGuestWriteLandsInTopDelta(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 1)
	before := s.diskHash(t, vm.Value, 2000, "")
	snap := snapshot(t, c, vm, "backup")
	if got := s.diskHash(t, vm.Value, 2000, ""); got != before {
		t.Fatal("a snapshot changed the current content")
	}
	baseFile := s.vmByMoref(t, vm.Value).Disks[0].Chain[1]
	baseStat, _ := os.ReadFile(strings.TrimSuffix(s.localPath(t, baseFile), ".vmdk") + "-flat.vmdk")
	s.guestWrite(t, vm.Value, 2000, 1<<20+100, 5000, 42) // into a hole of the base, partial grains
	after := s.diskHash(t, vm.Value, 2000, "")
	if after == before {
		t.Fatal("the write did not change the current content")
	}
	if got := s.diskHash(t, vm.Value, 2000, snap.Value); got != before {
		t.Fatal("the write changed the snapshot's content")
	}
	baseNow, _ := os.ReadFile(strings.TrimSuffix(s.localPath(t, baseFile), ".vmdk") + "-flat.vmdk")
	if !bytes.Equal(baseStat, baseNow) {
		t.Fatal("the write reached the base")
	}
	found := false
	for _, r := range s.allocated(t, vm.Value, 2000, "") {
		found = found || (r.Offset <= 1<<20+100 && r.Offset+r.Length >= 1<<20+5100)
	}
	if !found {
		t.Fatal("the written area is not allocated")
	}
	for _, r := range s.allocated(t, vm.Value, 2000, snap.Value) {
		if r.Offset < 1<<20+5100 && r.Offset+r.Length > 1<<20+100 {
			t.Fatal("the written area is allocated in the snapshot")
		}
	}
	// Zeros are a write too.
	var out map[string]string
	if code := s.call(t, "POST", "/guest/write", map[string]interface{}{"vm": vm.Value, "disk": 2000, "offset": 0, "length": 4096, "zero": true}, &out); code != 200 {
		t.Fatalf("zero write: %d %v", code, out)
	}
	if code := s.call(t, "POST", "/guest/write", map[string]interface{}{"vm": vm.Value, "disk": 2000, "offset": 64 << 20, "length": 1}, &out); code != 400 {
		t.Fatalf("write past the end: %d", code)
	}
	if code := s.call(t, "POST", "/guest/write", map[string]interface{}{"vm": "vm-0", "disk": 2000, "offset": 0, "length": 1}, &out); code != 404 {
		t.Fatalf("write to an unknown VM: %d", code)
	}
}

func TestRemoveSnapshotConsolidates(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	base := s.vmByMoref(t, vm.Value).Disks[0].FileName
	s1 := snapshot(t, c, vm, "one")
	s.guestWrite(t, vm.Value, 2000, 3<<20, 1<<20, 1)
	h1 := s.diskHash(t, vm.Value, 2000, "")
	s2 := snapshot(t, c, vm, "two")
	s.guestWrite(t, vm.Value, 2000, 10<<20+7, 300000, 2)
	h2 := s.diskHash(t, vm.Value, 2000, "")
	d1 := strings.TrimSuffix(base, ".vmdk") + "-000001.vmdk"
	d2 := strings.TrimSuffix(base, ".vmdk") + "-000002.vmdk"

	// Removing the older snapshot merges the first delta into the base.
	removeSnapshot(t, c, s1, false)
	cur := flatBacking(t, virtualDisks(t, c, vm)[0])
	if cur.FileName != d2 || cur.Parent == nil || cur.Parent.FileName != base || cur.Parent.Parent != nil {
		t.Fatalf("after removing one: %+v", cur)
	}
	if sb := flatBacking(t, virtualDisks(t, c, s2)[0]); sb.FileName != base {
		t.Fatalf("snapshot two now names %s", sb.FileName)
	}
	if _, err := os.Stat(s.localPath(t, d1)); err == nil {
		t.Fatal("the merged delta is still there")
	}
	if s.diskHash(t, vm.Value, 2000, "") != h2 || s.diskHash(t, vm.Value, 2000, s2.Value) != h1 {
		t.Fatal("consolidation changed content")
	}
	// Removing the last one merges the top into the base: back to one file.
	removeSnapshot(t, c, s2, false)
	cur = flatBacking(t, virtualDisks(t, c, vm)[0])
	if cur.FileName != base || cur.Parent != nil {
		t.Fatalf("after removing two: %+v", cur)
	}
	if s.diskHash(t, vm.Value, 2000, "") != h2 {
		t.Fatal("consolidation changed content")
	}
	entries, _ := os.ReadDir(filepath.Dir(s.localPath(t, base)))
	for _, e := range entries {
		if strings.Contains(e.Name(), "-00000") {
			t.Fatalf("%s left behind", e.Name())
		}
	}
	// Remove all: three snapshots at once.
	for i := 0; i < 3; i++ {
		snapshot(t, c, vm, "x")
		s.guestWrite(t, vm.Value, 2000, int64(i)<<20, 4096, uint64(10+i))
	}
	h3 := s.diskHash(t, vm.Value, 2000, "")
	done(t)(object.NewVirtualMachine(c, vm).RemoveAllSnapshot(context.Background(), nil))
	if cur := flatBacking(t, virtualDisks(t, c, vm)[0]); cur.FileName != base || s.diskHash(t, vm.Value, 2000, "") != h3 {
		t.Fatalf("after removing all: %s", cur.FileName)
	}
}

func TestRevertToSnapshot(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 2)
	s.guestWrite(t, vm.Value, 2000, 0, 65536, 3)
	h0 := s.diskHash(t, vm.Value, 2000, "")
	snap := snapshot(t, c, vm, "good")
	s.guestWrite(t, vm.Value, 2000, 5<<20, 65536, 4)
	if s.diskHash(t, vm.Value, 2000, "") == h0 {
		t.Fatal("write had no effect")
	}
	d1 := flatBacking(t, virtualDisks(t, c, vm)[0]).FileName
	revertSnapshot(t, c, snap)
	if s.diskHash(t, vm.Value, 2000, "") != h0 {
		t.Fatal("revert did not restore the snapshot's content")
	}
	cur := flatBacking(t, virtualDisks(t, c, vm)[0])
	if cur.FileName == d1 || cur.Parent == nil || cur.Parent.FileName != flatBacking(t, virtualDisks(t, c, snap)[0]).FileName {
		t.Fatalf("after revert: %+v (was %s)", cur, d1)
	}
	if _, err := os.Stat(s.localPath(t, d1)); err == nil {
		t.Fatal("the discarded delta is still there")
	}
	if st := s.vmByMoref(t, vm.Value).PowerState; st != "poweredOff" {
		t.Fatalf("after reverting to a snapshot without memory the VM is %s", st)
	}
	// Revert to the current snapshot again, then write and remove: content follows.
	done(t)(object.NewVirtualMachine(c, vm).RevertToCurrentSnapshot(context.Background(), true))
	if s.diskHash(t, vm.Value, 2000, "") != h0 {
		t.Fatal("revert to current did not restore the content")
	}
}

// TestQemuAgreesWithSimulator converts every disk state the simulator produced (base, each
// snapshot, the current top of a chain of two snapshots) with qemu-img and compares the hashes.
func TestQemuAgreesWithSimulator(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	for _, format := range []string{"sesparse", "vmfssparse", "sparse"} {
		t.Run(format, func(t *testing.T) {
			s := startSim(t, "--delta-format", format, "--disk-size", "20MiB", "--vms", "1")
			c := s.admin(t)
			vm := s.vm(t, 0)
			check := func(snap string) {
				t.Helper()
				want := s.diskHash(t, vm.Value, 2000, snap)
				file := s.vmByMoref(t, vm.Value).Disks[0].FileName
				if snap != "" {
					for _, sv := range s.vmByMoref(t, vm.Value).Snapshots {
						if sv.Moref == snap {
							file = sv.Disks[0].FileName
						}
					}
				}
				if got := hexSum(qemuRaw(t, s.localPath(t, file))); got != want {
					t.Fatalf("%s: qemu-img %s, simulator %s", file, got, want)
				}
			}
			check("")
			s.guestWrite(t, vm.Value, 2000, 1<<20-700, 9000, 1)
			s1 := snapshot(t, c, vm, "one")
			s.guestWrite(t, vm.Value, 2000, 2<<20+3, 100000, 2)
			s.guestWrite(t, vm.Value, 2000, 20<<20-512, 512, 3)
			s2 := snapshot(t, c, vm, "two")
			s.guestWrite(t, vm.Value, 2000, 2<<20+50000, 100, 4)
			s.guestWrite(t, vm.Value, 2000, 7<<20, 3<<20, 5)
			check("")
			check(s1.Value)
			check(s2.Value)
		})
	}
}
