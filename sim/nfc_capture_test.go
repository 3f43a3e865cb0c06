// Concept: seeds for the C client's fuzz target fuzz_nfc_reply (fuzz/nfc_reply.c) captured from
// this responder's real replies. A test client opens a session and a file as the C engine does,
// makes the request the target makes (a read of 8192 bytes at 0, DDB_GET "uuid", 16 allocation
// chunks of 64 KiB, a 4096-byte write), and records the bytes of each reply. A seed is the
// target's mode byte, then one reply renumbered to opId 0: the target attaches to a connection
// in the AIO phase and makes one request, and its engine takes any message for a request not yet
// made as a protocol error, so only the first reply of a stream is ever matched. The session's
// own replies (OPEN_SESSION, SET_SOCK_OPTS, SET_RES_POOL, OPEN_FILE, CLOSE_FILE, CLOSE_SESSION)
// go in as answers of the wrong type to the target's request. Skipped unless
// FVX_NFC_CAPTURE_DIR names the directory to write (docs/fuzzing.md).

package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The mode byte of fuzz_nfc_reply: bits 0-1 the request, bits 2-3 the compression the client
// asks, bit 4 ERROR texts inline.
const (
	fuzzRead     = 0
	fuzzDDB      = 1
	fuzzAlloc    = 2
	fuzzWrite    = 3
	fuzzCompBits = 2
)

// captureCase is one seed: the policy flags, how the file is opened, what is asked, and which of
// the recorded replies the seed carries.
type captureCase struct {
	name  string
	flags []string
	mode  byte
	write bool   // open the file read-write (a random-access ticket)
	fault uint32 // arm an injected IO ERROR with this code first
	ask   func(c *nfcClient, h uint64)
	reply string // the recorded reply: "ask" (default) or a session step
	alloc int    // bitmap bytes of a type-13 reply (its length is the client's to know)
}

// recorder keeps the responder's bytes and where each step's reply starts and ends.
type recorder struct {
	buf   bytes.Buffer
	steps map[string][2]int
}

func (r *recorder) step(name string, f func()) {
	start := r.buf.Len()
	f()
	r.steps[name] = [2]int{start, r.buf.Len()}
}

// renumber sets the opId of every message in b (one request's reply: an IO read's fragments,
// or one message) to 0, walking the framing as the C engine does (extra lengths by type).
func renumber(t *testing.T, b []byte, bitmap int) []byte {
	out := append([]byte(nil), b...)
	for p := 0; p < len(out); {
		if len(out)-p < 16 || le.Uint32(out[p:]) != 0xA100DA7A {
			t.Fatalf("not an AIO message at %d of %d", p, len(out))
		}
		typ, size := le.Uint32(out[p+4:]), int(le.Uint32(out[p+8:]))
		le.PutUint32(out[p+12:], 0)
		pl := out[p+16 : p+16+size]
		extra := 0
		switch {
		case typ == 1 && size >= 12:
			extra = int(le.Uint32(pl[8:]))
		case typ == 7 && size == 44 && le.Uint32(pl[8:]) == 1:
			extra = int(le.Uint32(pl[36:]))
		case typ == 11 && size == 16:
			extra = int(le.Uint32(pl[12:]))
		case typ == 13:
			extra = bitmap
		}
		p += 16 + size + extra
	}
	return out
}

func TestNFCReplyCapture(t *testing.T) {
	dir := os.Getenv("FVX_NFC_CAPTURE_DIR")
	if dir == "" {
		t.Skip("FVX_NFC_CAPTURE_DIR not set")
	}
	read := func(comp uint32) func(c *nfcClient, h uint64) {
		return func(c *nfcClient, h uint64) { _, _ = c.read(h, 0, 8192, comp) }
	}
	ddb := func(c *nfcClient, h uint64) { _, _ = c.ddb(h, "uuid") }
	alloc := func(c *nfcClient, h uint64) { _, _ = c.allocated(h, 64<<10, 0, 16) }
	misaligned := func(c *nfcClient, h uint64) { _, _ = c.allocated(h, 64<<10, 512, 16) }
	write := func(c *nfcClient, h uint64) {
		_ = c.write(h, 0, bytes.Repeat([]byte{0x5a}, 4096), 64<<10, compNone)
	}
	cases := []captureCase{
		{name: "sim_read_plain", mode: fuzzRead, ask: read(compNone)},
		{name: "sim_read_zlib", mode: fuzzRead | compZlib<<fuzzCompBits, ask: read(compZlib)},
		{name: "sim_read_fastlz", mode: fuzzRead | compFastLZ<<fuzzCompBits, ask: read(compFastLZ)},
		{name: "sim_ddb", mode: fuzzDDB, ask: ddb},
		{name: "sim_alloc", mode: fuzzAlloc, ask: alloc, alloc: 4},
		{name: "sim_write", mode: fuzzWrite, write: true, ask: write},
		{name: "sim_error_readonly_write", mode: fuzzWrite, ask: write},
		{name: "sim_error_injected_read", mode: fuzzRead, fault: nfcErrBadRequest, ask: read(compNone)},
		{name: "sim_error_misaligned_alloc", mode: fuzzAlloc, ask: misaligned},
		{name: "sim_error_empty_payload", flags: []string{"-nfc-error-payload=empty"}, mode: fuzzAlloc, ask: misaligned},
		{name: "sim_open_session", mode: fuzzDDB, ask: ddb, reply: "OPEN_SESSION"},
		{name: "sim_set_sock_opts", mode: fuzzDDB, ask: ddb, reply: "SET_SOCK_OPTS"},
		{name: "sim_open_file", mode: fuzzDDB, ask: ddb, reply: "OPEN_FILE"},
		{name: "sim_open_file_noise", flags: []string{"-nfc-unknown-bytes=noise"}, mode: fuzzDDB, ask: ddb, reply: "OPEN_FILE"},
		{name: "sim_close_file", mode: fuzzDDB, ask: ddb, reply: "CLOSE_FILE"},
		{name: "sim_close_session_empty", flags: []string{"-nfc-ack-payload=empty"}, mode: fuzzDDB, ask: ddb, reply: "CLOSE_SESSION"},
	}
	for _, cc := range cases {
		n := startTestNFC(t, false, cc.flags...)
		kind := ticketVMFiles
		if cc.write {
			kind = ticketRandomRW
		}
		c := n.connect(t, n.issue(t, kind, "vm-1", 2000), false)
		rec := &recorder{steps: map[string][2]int{}}
		c.br = bufio.NewReader(io.TeeReader(c.br, &rec.buf))
		var h uint64
		var err error
		rec.step("OPEN_SESSION", func() { _, err = c.call(2, u32s(16, 4, 64<<10, 8, 1), nil, 0) })
		rec.step("SET_SOCK_OPTS", func() { _, err = c.call(9, make([]byte, 12), nil, 0) })
		rec.step("SET_RES_POOL", func() { _, err = c.call(22, u32s(4, 0, 1), nil, 0) })
		rec.step("OPEN_FILE", func() { h, _, err = c.openFile(diskA, cc.write) })
		if err != nil {
			t.Fatalf("%s: %v", cc.name, err)
		}
		if cc.fault != 0 {
			if err := n.hub.faults.arm(nfcFaultRequest{Kind: "error", Code: cc.fault}, n.hub.tickets); err != nil {
				t.Fatal(err)
			}
		}
		rec.step("ask", func() { cc.ask(c, h) })
		p := make([]byte, 8)
		le.PutUint64(p, h)
		rec.step("CLOSE_FILE", func() { _, err = c.call(5, p, nil, 0) })
		rec.step("CLOSE_SESSION", func() { _, err = c.call(3, make([]byte, 4), nil, 0) })
		if err != nil {
			t.Fatalf("%s: close: %v", cc.name, err)
		}
		step := cc.reply
		if step == "" {
			step = "ask"
		}
		span := rec.steps[step]
		seed := append([]byte{cc.mode}, renumber(t, rec.buf.Bytes()[span[0]:span[1]], cc.alloc)...)
		if err := os.WriteFile(filepath.Join(dir, cc.name), seed, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", cc.name, len(seed))
	}
}
