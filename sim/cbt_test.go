// Concept: tests of Changed Block Tracking through govmomi — when changeTrackingEnabled takes
// effect, the changeIds of backings, QueryChangedDiskAreas with "*" and with a changeId (the
// incremental-backup loop across snapshot removal), paging, and the faults for bad offsets,
// malformed, stale and unrelated changeIds, CBT off, and a running VM without a snapshot.

package main

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

var changeIdShape = regexp.MustCompile(`^52( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}/[0-9]+$`)

func setCBT(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference, on bool) {
	t.Helper()
	done(t)(object.NewVirtualMachine(c, vm).Reconfigure(context.Background(),
		types.VirtualMachineConfigSpec{ChangeTrackingEnabled: types.NewBool(on)}))
}

func qcda(c *vim25.Client, vm types.ManagedObjectReference, snap *types.ManagedObjectReference, start int64, changeId string) (*types.DiskChangeInfo, error) {
	res, err := methods.QueryChangedDiskAreas(context.Background(), c, &types.QueryChangedDiskAreas{
		This: vm, Snapshot: snap, DeviceKey: 2000, StartOffset: start, ChangeId: changeId})
	if err != nil {
		return nil, err
	}
	return &res.Returnval, nil
}

func changeIdOf(t *testing.T, c *vim25.Client, ref types.ManagedObjectReference) string {
	t.Helper()
	return flatBacking(t, virtualDisks(t, c, ref)[0]).ChangeId
}

// areas lists an answer's areas as runs.
func areas(info *types.DiskChangeInfo) []extentRun {
	out := []extentRun{}
	for _, a := range info.ChangedArea {
		out = append(out, extentRun{a.Start, a.Length})
	}
	return out
}

func sameRuns(a, b []extentRun) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestChangedBlockTracking(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	const capacity = 64 << 20
	if _, err := qcda(c, vm, nil, 0, "*"); err == nil {
		t.Fatal("QueryChangedDiskAreas without CBT")
	}
	setCBT(t, c, vm, true)
	if id := changeIdOf(t, c, vm); id != "" {
		t.Fatalf("CBT in effect before a snapshot or power-on: %q", id)
	}
	s1 := snapshot(t, c, vm, "activates") // CBT takes effect here; this state predates it
	if id := changeIdOf(t, c, s1); id != "" {
		t.Fatalf("activating snapshot has changeId %q", id)
	}
	if !changeIdShape.MatchString(changeIdOf(t, c, vm)) {
		t.Fatalf("current changeId %q", changeIdOf(t, c, vm))
	}
	faultOf[types.FileFault](t, second(qcda(c, vm, &s1, 0, "*")))

	s2 := snapshot(t, c, vm, "full")
	c2 := changeIdOf(t, c, s2)
	if !changeIdShape.MatchString(c2) {
		t.Fatalf("snapshot changeId %q", c2)
	}
	full, err := qcda(c, vm, &s2, 0, "*")
	if err != nil {
		t.Fatal(err)
	}
	var want []extentRun
	for _, r := range s.allocated(t, vm.Value, 2000, s2.Value) {
		want = addRun(want, extentRun{r.Offset / 65536 * 65536, alignUp(r.Offset+r.Length, 65536) - r.Offset/65536*65536})
	}
	if full.StartOffset != 0 || full.Length != capacity || !sameRuns(areas(full), want) {
		t.Fatalf("\"*\": %+v, want %+v", full, want)
	}
	// Incremental: the snapshot is removed after the backup; the changeId stays good.
	removeSnapshot(t, c, s2, false)
	s.guestWrite(t, vm.Value, 2000, 3<<20+100, 5000, 1)
	s.guestWrite(t, vm.Value, 2000, 40<<20, 70000, 2)
	s3 := snapshot(t, c, vm, "incremental")
	inc, err := qcda(c, vm, &s3, 0, c2)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRuns(areas(inc), []extentRun{{3 << 20, 65536}, {40 << 20, 131072}}) || inc.Length != capacity {
		t.Fatalf("changes since %s: %+v", c2, inc)
	}
	c3 := changeIdOf(t, c, s3)
	if info, err := qcda(c, vm, &s3, 0, c3); err != nil || len(info.ChangedArea) != 0 {
		t.Fatalf("changes since itself: %+v %v", info, err)
	}
	if info, err := qcda(c, vm, &s3, 40<<20+65536, c2); err != nil || !sameRuns(areas(info), []extentRun{{40<<20 + 65536, 65536}}) ||
		info.StartOffset != 40<<20+65536 || info.Length != capacity-(40<<20+65536) {
		t.Fatalf("from an offset: %+v %v", info, err)
	}
	faultOf[types.InvalidArgument](t, second(qcda(c, vm, &s3, capacity, c2)))
	faultOf[types.InvalidArgument](t, second(qcda(c, vm, &s3, 0, "not a change id")))
	faultOf[types.FileFault](t, second(qcda(c, vm, &s1, 0, c3))) // s1 predates tracking
	// A running VM needs a snapshot; a powered-off one does not.
	faultOf[types.FileLocked](t, second(qcda(c, vm, nil, 0, c2)))
	power(t, c, vm, false)
	if info, err := qcda(c, vm, nil, 0, c3); err != nil || len(info.ChangedArea) != 0 {
		t.Fatalf("powered off, changes since the last snapshot: %+v %v", info, err)
	}
	// Reset: every older changeId is stale.
	var out struct {
		ChangeIds map[string]string `json:"change_ids"`
	}
	if code := s.call(t, http.MethodPost, "/cbt/reset", map[string]string{"vm": vm.Value}, &out); code != 200 ||
		out.ChangeIds["2000"] == "" || out.ChangeIds["2000"] == changeIdOf(t, c, s3) {
		t.Fatalf("reset: %d %+v", code, out)
	}
	faultOf[types.FileFault](t, second(qcda(c, vm, nil, 0, c3)))
	if info, err := qcda(c, vm, nil, 0, out.ChangeIds["2000"]); err != nil || len(info.ChangedArea) != 0 {
		t.Fatalf("since the reset: %+v %v", info, err)
	}
	// CBT off (in effect at the next power-on): faults.
	setCBT(t, c, vm, false)
	power(t, c, vm, true)
	faultOf[types.FileFault](t, second(qcda(c, vm, &s3, 0, "*")))
	if id := changeIdOf(t, c, vm); id != "" {
		t.Fatalf("changeId with CBT off: %q", id)
	}
}

func TestChangedAreasPaging(t *testing.T) {
	s := startSim(t, "--cbt-block", "4KiB", "--vms", "1")
	c := s.admin(t)
	vm := s.vm(t, 0)
	setCBT(t, c, vm, true)
	power(t, c, vm, false)
	power(t, c, vm, true) // CBT takes effect
	base := snapshot(t, c, vm, "base")
	since := changeIdOf(t, c, base)
	const n = cbtMaxAreas + 100
	for i := int64(0); i < n; i++ {
		s.guestWrite(t, vm.Value, 2000, i*8192+100, 10, uint64(i))
	}
	top := snapshot(t, c, vm, "top")
	page, err := qcda(c, vm, &top, 0, since)
	if err != nil {
		t.Fatal(err)
	}
	last := page.ChangedArea[len(page.ChangedArea)-1]
	if len(page.ChangedArea) != cbtMaxAreas || page.Length != last.Start+last.Length || last.Start != (cbtMaxAreas-1)*8192 {
		t.Fatalf("first page: %d areas, length %d, last %+v", len(page.ChangedArea), page.Length, last)
	}
	next, err := qcda(c, vm, &top, page.StartOffset+page.Length, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.ChangedArea) != 100 || next.StartOffset+next.Length != 64<<20 || next.ChangedArea[0].Start != cbtMaxAreas*8192 {
		t.Fatalf("second page: %d areas, %d+%d", len(next.ChangedArea), next.StartOffset, next.Length)
	}
}

// second returns the error of a (value, error) pair.
func second(_ interface{}, err error) error { return err }
