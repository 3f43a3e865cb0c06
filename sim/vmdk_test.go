// Concept: tests of the VMDK formats the simulator writes, against an independent reader: every
// format (vmfs base, SEsparse, COWD, hosted sparse deltas, chains of two deltas) is converted by
// qemu-img to raw and compared with what the simulator's own reader returns, and both with the
// expected bytes computed from the writes.

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// writeOp is one write of the stream of seed at [off, off+n).
type writeOp struct {
	off, n int64
	seed   uint64
}

// applyWrites writes ops through c and into the expected image want.
func applyWrites(t *testing.T, c *chain, want []byte, ops []writeOp) {
	t.Helper()
	for _, op := range ops {
		p := make([]byte, op.n)
		fillPattern(op.seed, op.off, p)
		if err := c.writeAt(p, op.off); err != nil {
			t.Fatalf("write %+v: %v", op, err)
		}
		copy(want[op.off:], p)
	}
}

// qemuRaw converts the disk whose descriptor is desc to raw with qemu-img and returns the bytes.
func qemuRaw(t *testing.T, desc string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "raw")
	cmd := exec.Command("qemu-img", "convert", "-f", "vmdk", "-O", "raw", desc, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert %s: %v\n%s", desc, err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkDisk compares the simulator's reader and qemu-img with want for the disk at desc.
func checkDisk(t *testing.T, desc string, want []byte) {
	t.Helper()
	c, err := openChain(desc, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	got := make([]byte, c.size())
	if err := c.readAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: simulator reader differs from the expected bytes at %d", desc, firstDiff(got, want))
	}
	raw := qemuRaw(t, desc)
	if !bytes.Equal(raw, want) {
		t.Fatalf("%s: qemu-img differs from the expected bytes at %d (len %d/%d)", desc, firstDiff(raw, want), len(raw), len(want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

func newTestLink(t *testing.T, dir, name, format string, capacity int64, cid, parentCID uint32, hint string) string {
	t.Helper()
	files, err := createLink(linkSpec{dir: dir, name: name, format: format, capacity: capacity, cid: cid,
		parentCID: parentCID, parentHint: hint, ddb: map[string]string{"adapterType": "lsilogic"}})
	if err != nil {
		t.Fatal(err)
	}
	return files[0]
}

// TestFormatsAgainstQemu writes a base and, for every delta format, two deltas on top, with writes
// that cover whole grains, parts of grains, grain-table boundaries and the disk's end.
func TestFormatsAgainstQemu(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	// 40 MiB + 3 KiB: not a multiple of any grain, more than one SEsparse (16 MiB) and
	// hosted (32 MiB) grain table, twenty COWD (2 MiB) tables.
	const capacity = 40<<20 + 3<<10
	for _, format := range []string{formatSESparse, formatVmfsSparse, formatHosted} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			want := make([]byte, capacity)
			base := newTestLink(t, dir, "vm", formatVmfs, capacity, 0x1111, noParentCID, "")
			c, err := openChain(base, true)
			if err != nil {
				t.Fatal(err)
			}
			applyWrites(t, c, want, []writeOp{{0, 1 << 20, 1}, {5 << 20, 3 << 20, 2}, {capacity - 4096, 4096, 3}})
			c.close()
			checkDisk(t, base, want)

			d1 := newTestLink(t, dir, "vm-000001", format, capacity, 0x2222, 0x1111, "vm.vmdk")
			c, err = openChain(d1, true)
			if err != nil {
				t.Fatal(err)
			}
			applyWrites(t, c, want, []writeOp{
				{100, 700, 10},                   // inside grains, partly over data below
				{(16 << 20) - 3000, 9000, 11},    // across an SEsparse table boundary
				{(2 << 20) - 512, 1024, 12},      // across a COWD table boundary
				{6 << 20, 1 << 20, 13},           // whole grains over data
				{capacity - 1500, 1500, 14},      // the short last grain
				{(32 << 20) + 65536, 131072, 15}, // second hosted table
			})
			c.close()
			checkDisk(t, d1, want)

			d2 := newTestLink(t, dir, "vm-000002", format, capacity, 0x3333, 0x2222, "vm-000001.vmdk")
			c, err = openChain(d2, true)
			if err != nil {
				t.Fatal(err)
			}
			applyWrites(t, c, want, []writeOp{{300, 100, 20}, {(16 << 20) - 1000, 2000, 21}, {20 << 20, 4096, 22}})
			// Writing again where the top already holds the grains.
			applyWrites(t, c, want, []writeOp{{350, 10, 23}, {20<<20 + 100, 100, 24}})
			c.close()
			checkDisk(t, d2, want)

			// Allocation: 3 MiB was written by nobody.
			c, err = openChain(d2, false)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			if alloc, _, err := c.allocated(3<<20, 4096); err != nil || alloc {
				t.Fatalf("never-written area reported allocated (%v)", err)
			}
			if alloc, _, err := c.allocated(300, 100); err != nil || !alloc {
				t.Fatalf("written area reported free (%v)", err)
			}
		})
	}
}

// TestChainRefusesBadParentCID checks the reader refuses a delta whose parentCID does not match.
func TestChainRefusesBadParentCID(t *testing.T) {
	dir := t.TempDir()
	newTestLink(t, dir, "vm", formatVmfs, 1<<20, 0x1111, noParentCID, "")
	d := newTestLink(t, dir, "vm-000001", formatSESparse, 1<<20, 0x2222, 0x9999, "vm.vmdk")
	if _, err := openChain(d, false); err == nil {
		t.Fatal("a delta with the wrong parentCID was opened")
	}
}
