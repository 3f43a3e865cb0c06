// Concept: tests of the NFC test controls through the admin endpoint (in-process, over the fake
// disks): each fault injection, the counters in /stats, /nfc/tickets; then randomized malformed
// input at every phase, which must never crash the server; then the vcsim-backed inventory.

package main

import (
	"errors"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// adminOf serves the admin endpoint of an in-process hub and returns the harness's caller for it.
func adminOf(t *testing.T, n *testNFC) func(method, path string, body, out interface{}) int {
	srv := httptest.NewServer((&admin{faults: newFaultInjector(), stats: n.hub.stats, nfc: n.hub}).handler())
	t.Cleanup(srv.Close)
	s := &sim{startLine: startLine{Admin: srv.URL}}
	return func(method, path string, body, out interface{}) int {
		t.Helper()
		return s.call(t, method, path, body, out)
	}
}

func TestNFCFaultInjection(t *testing.T) {
	n := startTestNFC(t, false)
	call := adminOf(t, n)
	arm := func(q map[string]interface{}) {
		t.Helper()
		if code := call(http.MethodPost, "/nfc/fault", q, nil); code != http.StatusOK {
			t.Fatalf("arming %v: %d", q, code)
		}
	}
	for _, bad := range []map[string]interface{}{{"kind": "boom"}, {"kind": "drop", "bytes": -1}, {"kind": "delay"}, {"kind": "error", "nope": 1}} {
		if code := call(http.MethodPost, "/nfc/fault", bad, nil); code != http.StatusBadRequest {
			t.Fatalf("%v: %d", bad, code)
		}
	}

	c, h := n.open(t, ticketVMFiles, "vm-1", 0, diskA, false)
	// The next IO gets an ERROR; the session goes on.
	arm(map[string]interface{}{"kind": "error", "code": 5})
	_, err := c.read(h, 0, 4096, compNone)
	wantCode(t, err, nfcErrNoMemory, "injected error")
	if _, err := c.read(h, 0, 4096, compNone); err != nil {
		t.Fatalf("after the injected error: %v", err)
	}
	// Cleared faults do not fire.
	arm(map[string]interface{}{"kind": "error"})
	if code := call(http.MethodPost, "/fault/clear", nil, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	if _, err := c.read(h, 0, 4096, compNone); err != nil {
		t.Fatalf("after /fault/clear: %v", err)
	}
	// The next reply is delayed.
	arm(map[string]interface{}{"kind": "delay", "ms": 300})
	began := time.Now()
	if _, err := c.read(h, 0, 4096, compNone); err != nil || time.Since(began) < 300*time.Millisecond {
		t.Fatalf("delayed read: %v after %v", err, time.Since(began))
	}
	// The next IO reply stops after 100 bytes and the connection closes.
	arm(map[string]interface{}{"kind": "drop", "bytes": 100})
	if _, err := c.sendRead(h, 0, 256<<10, compNone); err != nil {
		t.Fatal(err)
	}
	_ = c.raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c.br); len(b) != 100 || err != nil {
		t.Fatalf("dropped reply: %d bytes, %v", len(b), err)
	}

	// The next ticket presented is stale: refused at PROXY; the one after works.
	arm(map[string]interface{}{"kind": "stale_ticket"})
	tk := n.issue(t, ticketVMFiles, "vm-1", 0)
	_, err = dialNFC(n.addr("host-1"), clientOpts{ticket: tk.id, service: tk.service})
	var refusal *authdRefusal
	if !errors.As(err, &refusal) || refusal.line != authdNotLoggedIn {
		t.Fatalf("stale ticket: %v", err)
	}
	n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), false).close()

	var st struct {
		NFC nfcStatsView `json:"nfc"`
	}
	call(http.MethodGet, "/stats", nil, &st)
	if st.NFC.Connections != 3 || st.NFC.Proxied != 2 || st.NFC.Requests["IO"] != 5 || st.NFC.Requests["OPEN_FILE"] != 1 ||
		st.NFC.Errors != 1 || st.NFC.BytesRead != 3*4096+256<<10 || st.NFC.Panics != 0 {
		t.Fatalf("stats %+v", st.NFC)
	}
	call(http.MethodPost, "/stats/reset", nil, nil)
	var after struct {
		NFC nfcStatsView `json:"nfc"`
	}
	call(http.MethodGet, "/stats", nil, &after)
	if after.NFC.Connections != 0 || len(after.NFC.Requests) != 0 {
		t.Fatalf("stats after reset %+v", after.NFC)
	}
	var tickets []ticketView
	call(http.MethodGet, "/nfc/tickets", nil, &tickets)
	if len(tickets) != 3 || !tickets[0].Used || tickets[0].VM != "vm-1" || tickets[0].Host != "host-1" || len(tickets[0].Prefix) != 8 {
		t.Fatalf("tickets %+v", tickets)
	}
}

// garbage returns random bytes, often shaped like the phase's messages with bad fields.
func garbage(rng *rand.Rand, phase int) []byte {
	var b []byte
	switch phase {
	case 0: // authd lines
		words := []string{"SESSION ", "BANNER ", "PROXY ", "THUMBPRINT_SHA2 ", "USER ", ":", "\r\n", "\n", "vpxa-nfc", "\x00"}
		for i := rng.Intn(20); i >= 0; i-- {
			b = append(b, words[rng.Intn(len(words))]...)
		}
	case 1: // classic frames
		for i := rng.Intn(4); i >= 0; i-- {
			f := frame([]uint32{4, 33, 43, 51, 52, 54, 55, 999}[rng.Intn(8)], 4, rng.Uint32()%300, 8, rng.Uint32()%300)
			b = append(b, f[:rng.Intn(len(f)+1)]...)
		}
	default: // AIO messages with random types, sizes and length fields
		for i := rng.Intn(6); i >= 0; i-- {
			typ := []uint32{1, 2, 3, 4, 5, 7, 9, 10, 11, 13, 22, 99, 1 << 31}[rng.Intn(13)]
			size := []uint32{0, 4, 8, 12, 16, 44, 48, 60, 300, 1 << 31, rng.Uint32()}[rng.Intn(11)]
			n := int(size)
			if n > 512 {
				n = rng.Intn(64)
			}
			p := make([]byte, n)
			rng.Read(p)
			if n >= 44 && rng.Intn(2) == 0 {
				le.PutUint64(p[8:], uint64(rng.Intn(2))|uint64(rng.Intn(5))<<32)
				le.PutUint32(p[36:], []uint32{0, 1, 512, 1 << 30}[rng.Intn(4)])
			}
			h := make([]byte, 16)
			le.PutUint32(h, 0xA100DA7A)
			if rng.Intn(10) == 0 {
				le.PutUint32(h, rng.Uint32())
			}
			le.PutUint32(h[4:], typ)
			le.PutUint32(h[8:], size)
			le.PutUint32(h[12:], uint32(rng.Intn(8)))
			b = append(append(b, h...), p...)
			extra := make([]byte, rng.Intn(600))
			rng.Read(extra)
			b = append(b, extra...)
		}
	}
	return b
}

func TestNFCMalformedInput(t *testing.T) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for _, coalesced := range []string{"refuse", "accept"} {
		n := startTestNFC(t, false, "--nfc-coalesced", coalesced)
		for i := 0; i < 120; i++ {
			phase := i % 4
			tk := n.issue(t, ticketRandomRW, "vm-1", 2000)
			var w io.Writer
			var closer func()
			if phase == 0 {
				conn, _ := rawAuthd(t, n.addr("host-1"))
				w, closer = conn, func() { conn.Close() }
			} else {
				c, err := dialNFC(n.addr("host-1"), clientOpts{ticket: tk.id, service: tk.service, ssl: i%8 >= 4, noClassic: phase == 1})
				if err != nil {
					t.Fatal(err)
				}
				if phase == 3 {
					if err := c.openSession(64 << 10); err != nil {
						t.Fatal(err)
					}
					if _, _, err := c.openFile(diskA, true); err != nil {
						t.Fatal(err)
					}
				}
				w, closer = c.conn, c.close
			}
			_, _ = w.Write(garbage(rng, phase))
			time.Sleep(2 * time.Millisecond)
			closer()
		}
		// Every connection handler has ended, none panicked, and the server still serves.
		waitFor(t, 10*time.Second, "connections to end", func() bool {
			n.hub.mu.Lock()
			defer n.hub.mu.Unlock()
			return len(n.hub.conns) == 0
		})
		if p := n.hub.stats.snapshot().NFC.Panics; p != 0 {
			t.Fatalf("%d panics", p)
		}
		if d := n.disks.get(diskA); d.opens != 0 {
			t.Fatalf("%d opens of %s left", d.opens, diskA)
		}
		c, h := n.open(t, ticketVMFiles, "vm-1", 0, diskA, false)
		if _, err := c.read(h, 0, 512, compNone); err != nil {
			t.Fatal(err)
		}
	}

	// The decoders never panic either, and never return the wrong length.
	for i := 0; i < 20000; i++ {
		in := make([]byte, rng.Intn(64))
		rng.Read(in)
		want := rng.Intn(300)
		for _, kind := range []uint32{compNone, compZlib, compFastLZ, compSkipZ} {
			if out, err := decompress(kind, in, want); err == nil && len(out) != want {
				t.Fatalf("compression %d: %d bytes, want %d", kind, len(out), want)
			}
		}
	}
}

func TestNFCVcsimInventory(t *testing.T) {
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	defer m.Remove()
	inv := vcsimVMs{}
	hosts := inv.hosts()
	if len(hosts) != 4 || hosts[0].Name != "DC0_C0_H0" || hosts[3].Name != "DC0_H0" {
		t.Fatalf("hosts %+v", hosts)
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		host, ok := inv.vmHost(vm.Self.Value)
		if !ok || host != vm.Runtime.Host.Value {
			t.Fatalf("vmHost(%s) = %s %v", vm.Self.Value, host, ok)
		}
		var key int32
		for _, d := range vm.Config.Hardware.Device {
			if disk, ok := d.(*types.VirtualDisk); ok {
				key = disk.Key
			}
		}
		if !inv.hasDisk(vm.Self.Value, key) || inv.hasDisk(vm.Self.Value, key+1000) {
			t.Fatalf("hasDisk(%s, %d)", vm.Self.Value, key)
		}
		if !inv.poweredOn(vm.Self.Value) {
			t.Fatalf("%s not powered on", vm.Self.Value)
		}
		simulator.Map.WithLock(vm, func() { vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff })
		if inv.poweredOn(vm.Self.Value) {
			t.Fatalf("%s still powered on", vm.Self.Value)
		}
	}
	if _, ok := inv.vmHost("vm-nope"); ok || inv.poweredOn("vm-nope") || inv.hasDisk("vm-nope", 2000) {
		t.Fatal("an unknown VM is known")
	}
}
