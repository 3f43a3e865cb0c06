// Concept: test doubles for the NFC responder — an in-memory nfcDisks (disks with 64 KiB
// allocation grains, descriptor keys, owners and lock refusals), a small fixed nfcVMs inventory,
// and a harness that runs the NFC hub in-process with them.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"sync"
	"testing"
)

const fakeGrain = 64 << 10

type fakeDisk struct {
	mu     sync.Mutex
	data   []byte
	grains map[int64]bool
	ddb    map[string]string
	vm     string
	key    int32
	refuse string // readRefusal's reason ("" = not refused)
	opens  int    // live opens
}

type fakeDisks struct {
	mu     sync.Mutex
	byPath map[string]*fakeDisk
}

func newFakeDisks() *fakeDisks { return &fakeDisks{byPath: make(map[string]*fakeDisk)} }

// add makes a disk of size bytes at path, owned by (vm, key), with a recognisable pattern in
// its first grain and its third, the rest unallocated.
func (f *fakeDisks) add(path, vm string, key int32, size int) *fakeDisk {
	d := &fakeDisk{data: make([]byte, size), grains: map[int64]bool{}, vm: vm, key: key,
		ddb: map[string]string{"adapterType": "lsilogic", "uuid": "60 00 C2 9a", "geometry.biosHeads": "255"}}
	for _, g := range []int64{0, 2} {
		if int(g+1)*fakeGrain <= size {
			d.grains[g] = true
			for i := g * fakeGrain; i < (g+1)*fakeGrain; i++ {
				d.data[i] = byte(i*7 + 1)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byPath[path] = d
	return d
}

func (f *fakeDisks) get(path string) *fakeDisk {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byPath[path]
}

func (f *fakeDisks) openLogical(path string, write bool) (logicalDisk, error) {
	d := f.get(path)
	if d == nil {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	d.mu.Lock()
	d.opens++
	d.mu.Unlock()
	return &fakeView{d: d, write: write}, nil
}

func (f *fakeDisks) readRefusal(path string) (bool, string) {
	if d := f.get(path); d != nil && d.refuse != "" {
		return true, d.refuse
	}
	return false, ""
}

func (f *fakeDisks) owner(path string) (string, int32) {
	if d := f.get(path); d != nil {
		return d.vm, d.key
	}
	return "", 0
}

// fakeView is one open of a fakeDisk.
type fakeView struct {
	d      *fakeDisk
	write  bool
	closed bool
}

func (v *fakeView) Size() int64 { return int64(len(v.d.data)) }

func (v *fakeView) ReadAt(p []byte, off int64) (int, error) {
	v.d.mu.Lock()
	defer v.d.mu.Unlock()
	if off >= int64(len(v.d.data)) {
		return 0, io.EOF
	}
	n := copy(p, v.d.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (v *fakeView) WriteAt(p []byte, off int64) (int, error) {
	if !v.write {
		return 0, errors.New("read-only")
	}
	v.d.mu.Lock()
	defer v.d.mu.Unlock()
	if off+int64(len(p)) > int64(len(v.d.data)) {
		return 0, errors.New("beyond the end")
	}
	copy(v.d.data[off:], p)
	for g := off / fakeGrain; g <= (off+int64(len(p))-1)/fakeGrain; g++ {
		v.d.grains[g] = true
	}
	return len(p), nil
}

func (v *fakeView) Allocated(off, length int64) (bool, int64, error) {
	v.d.mu.Lock()
	defer v.d.mu.Unlock()
	state := v.d.grains[off/fakeGrain]
	end := off
	for end < off+length && v.d.grains[end/fakeGrain] == state {
		end = (end/fakeGrain + 1) * fakeGrain
	}
	if end > off+length {
		end = off + length
	}
	return state, end - off, nil
}

func (v *fakeView) DDB(key string) (string, bool) {
	s, ok := v.d.ddb[key]
	return s, ok
}

func (v *fakeView) Flush() error { return nil }

func (v *fakeView) Close() error {
	if v.closed {
		return errors.New("closed twice")
	}
	v.closed = true
	v.d.mu.Lock()
	v.d.opens--
	v.d.mu.Unlock()
	return nil
}

// fakeVMs: host-1 (H1) runs vm-1 (off, disks 2000 and 2001) and vm-2 (on, disk 2000); host-2
// (H2) runs vm-3 (off, disk 2000).
type fakeVMs struct {
	mu sync.Mutex
	on map[string]bool
}

var fakeVMHost = map[string]string{"vm-1": "host-1", "vm-2": "host-1", "vm-3": "host-2"}

func (*fakeVMs) hosts() []hostRef {
	return []hostRef{{Moref: "host-1", Name: "H1"}, {Moref: "host-2", Name: "H2"}}
}

func (*fakeVMs) vmHost(vm string) (string, bool) {
	h, ok := fakeVMHost[vm]
	return h, ok
}

func (*fakeVMs) hasDisk(vm string, key int32) bool {
	return key == 2000 || vm == "vm-1" && key == 2001
}

func (v *fakeVMs) poweredOn(vm string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.on[vm]
}

// testNFC is an in-process hub over the fakes.
type testNFC struct {
	hub   *nfcHub
	pol   *nfcPolicy
	disks *fakeDisks
	vms   *fakeVMs
}

const (
	diskA  = "[ds1] vm-1/vm-1.vmdk"   // vm-1, 2000, 1 MiB
	diskA2 = "[ds1] vm-1/vm-1_1.vmdk" // vm-1, 2001
	diskB  = "[ds1] vm-2/vm-2.vmdk"   // vm-2 (powered on), 2000
	diskC  = "[ds1] vm-3/vm-3.vmdk"   // vm-3 on host-2
)

// testPolicy is the NFC policy with every flag at its default, then the given flags.
func testPolicy(t *testing.T, args ...string) *nfcPolicy {
	t.Helper()
	p := &nfcPolicy{}
	fset := flag.NewFlagSet("nfc", flag.ContinueOnError)
	finish := p.register(fset)
	if err := fset.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	return p
}

func startTestNFC(t *testing.T, esx bool, args ...string) *testNFC {
	t.Helper()
	n := &testNFC{pol: testPolicy(t, args...), disks: newFakeDisks(), vms: &fakeVMs{on: map[string]bool{"vm-2": true}}}
	n.disks.add(diskA, "vm-1", 2000, 1<<20)
	n.disks.add(diskA2, "vm-1", 2001, 1<<20)
	n.disks.add(diskB, "vm-2", 2000, 1<<20)
	n.disks.add(diskC, "vm-3", 2000, 1<<20)
	hub, err := startNFC(nfcConfig{pol: n.pol, esx: esx, vms: n.vms, disks: n.disks,
		users: users{admin: "admin", adminPassword: "x", reader: "reader", readerPassword: "x"}, certs: newHostCerts(t.TempDir(), nil), stats: newStats()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.close)
	n.hub = hub
	return n
}

func (n *testNFC) addr(host string) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.hub.byMoref[host].port))
}

// issue records a ticket as the NfcService would.
func (n *testNFC) issue(t *testing.T, kind ticketKind, vm string, key int32) nfcTicket {
	t.Helper()
	host := fakeVMHost[vm]
	tk, err := n.hub.tickets.issue(kind, vm, key, host, serviceVC)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// connect dials tk's host with tk and runs the handshake and classic phase.
func (n *testNFC) connect(t *testing.T, tk nfcTicket, ssl bool) *nfcClient {
	t.Helper()
	host := n.hub.byMoref[tk.host]
	c, err := dialNFC(n.addr(tk.host), clientOpts{ticket: tk.id, service: tk.service, ssl: ssl, sha1: host.sha1, sha2: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// open connects with a fresh ticket, opens a 64 KiB session and path.
func (n *testNFC) open(t *testing.T, kind ticketKind, vm string, key int32, path string, write bool) (*nfcClient, uint64) {
	t.Helper()
	c := n.connect(t, n.issue(t, kind, vm, key), false)
	if err := c.openSession(64 << 10); err != nil {
		t.Fatal(err)
	}
	h, _, err := c.openFile(path, write)
	if err != nil {
		t.Fatal(err)
	}
	return c, h
}

// wantCode checks that err is an NFC ERROR with code.
func wantCode(t *testing.T, err error, code uint32, what string) *nfcError {
	t.Helper()
	var e *nfcError
	if !errors.As(err, &e) || e.code != code {
		t.Fatalf("%s: got %v, want NFC ERROR %#x", what, err, code)
	}
	return e
}
