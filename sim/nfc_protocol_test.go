// Concept: tests of the NFC responder in-process over the fake disks: the authd handshake on both
// transports (nfc.md §2), the classic phase (§3.1), open/read/write/DDB/allocated/close (§3.2),
// ticket binding and locks (§1), ordering of fragments and replies (§3.2, §5.5) and limits.

package main

import (
	"bytes"
	"compress/zlib"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawAuthd dials addr, reads the banner and starts the first TLS session; it returns the TLS
// connection for hand-written lines.
func rawAuthd(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	banner, err := readLineRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := tlsClient(raw)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	return c, banner
}

// exchange writes each line as its own TLS record and returns the reply line (or the read error).
func exchange(t *testing.T, c net.Conn, lines ...string) (string, error) {
	t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(c, l); err != nil {
			return "", err
		}
	}
	return readLineRaw(c)
}

func TestNFCHandshakeTransports(t *testing.T) {
	n := startTestNFC(t, false)
	for _, ssl := range []bool{false, true} {
		c := n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), ssl)
		if !strings.HasSuffix(c.banner, "NFCSSL supported/t, SHA256 supported") {
			t.Fatalf("banner %q", c.banner)
		}
		if ssl && !bytes.Equal(c.peer, c.peer2) {
			t.Fatal("nbdssl second session shows another certificate")
		}
		if err := c.openSession(64 << 10); err != nil {
			t.Fatal(err)
		}
		h, _, err := c.openFile(diskA, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.read(h, 0, 4096, compNone)
		if err != nil || !bytes.Equal(got, n.disks.get(diskA).data[:4096]) {
			t.Fatalf("ssl=%v read: %v", ssl, err)
		}
		if err := c.shutdown(h); err != nil {
			t.Fatal(err)
		}
	}
	if st := n.hub.stats.snapshot().NFC; st.Proxied != 2 || st.Requests["CLOSE_SESSION"] != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNFCSecondCertificateOther(t *testing.T) {
	n := startTestNFC(t, false, "--nfc-second-cert", "other")
	tk := n.issue(t, ticketVMFiles, "vm-1", 0)
	_, err := dialNFC(n.addr("host-1"), clientOpts{ticket: tk.id, service: tk.service, ssl: true, sha1: n.hub.byMoref["host-1"].sha1})
	if err == nil || !strings.Contains(err.Error(), "certificate SHA-1") {
		t.Fatalf("pinning the second session: %v", err)
	}
}

func TestNFCAuthdReplies(t *testing.T) {
	n := startTestNFC(t, false)
	addr := n.addr("host-1")

	// A command before TLS closes the connection, and does not use up the ticket (nfc.md §2.2).
	tk := n.issue(t, ticketVMFiles, "vm-1", 0)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := readLineRaw(raw); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(raw, "SESSION "+tk.id+"\r\n")
	if _, err := io.ReadAll(raw); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("plaintext command: %v", err)
	}
	raw.Close()
	n.connect(t, tk, false).close()

	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"PROXY vpxa-nfc\r\n"}, "530 Please login with USER and PASS"},
		{[]string{"SESSION a:b\r\n"}, "501 Invalid arguments"},
		{[]string{"USER root\r\n"}, "530 Login incorrect"},
		{[]string{"SESSIONID x\r\n"}, "530 Please login with USER and PASS"},
		{[]string{"THUMBPRINT_SHA2 PlainText\r\n"}, "200 " + n.hub.byMoref["host-1"].sha256},
		{[]string{"THUMBPRINT_SHA2 Other\r\n"}, "501 Invalid arguments"},
		{[]string{"SESSION " + tk.id + "\r\n", "PROXY vpxa-nfc\r\n"}, "530 Please login with USER and PASS"},                                   // used
		{[]string{"SESSION " + n.issue(t, ticketVMFiles, "vm-3", 0).id + "\r\n", "PROXY vpxa-nfc\r\n"}, "530 Please login with USER and PASS"}, // host-2's
		{[]string{"SESSION " + n.issue(t, ticketVMFiles, "vm-1", 0).id + "\r\n", "PROXY nfc\r\n"}, "530 Please login with USER and PASS"},      // wrong service
		{[]string{"SESSION " + n.issue(t, ticketVMFiles, "vm-1", 0).id + "\r\n", "PROXY vpxa-nfcssl\r\n"}, "200 Connect ha-nfcssl"},
		{[]string{"SESSION " + n.issue(t, ticketVMFiles, "vm-1", 0).id + "\r\n", "PROXY vpxa-nfc\r\n"}, "200 Connect ha-nfc"},
	} {
		c, _ := rawAuthd(t, addr)
		if got, err := exchange(t, c, tc.lines...); got != tc.want {
			t.Fatalf("%q: got %q (%v), want %q", tc.lines, got, err, tc.want)
		}
	}

	// Expired tickets are refused (--nfc-ticket-ttl, nfc.md §5.4).
	old := n.issue(t, ticketVMFiles, "vm-1", 0)
	n.hub.tickets.mu.Lock()
	n.hub.tickets.byID[old.id].issued = time.Now().Add(-2 * time.Hour)
	n.hub.tickets.mu.Unlock()
	c, _ := rawAuthd(t, addr)
	if got, _ := exchange(t, c, "SESSION "+old.id+"\r\n", "PROXY vpxa-nfc\r\n"); got != authdNotLoggedIn {
		t.Fatalf("expired ticket: %q", got)
	}

	// Two lines in one TLS record are refused by default (--nfc-coalesced, nfc.md §5.8).
	c, _ = rawAuthd(t, addr)
	if got, err := exchange(t, c, "BANNER \r\nBANNER \r\n"); err == nil {
		t.Fatalf("coalesced lines answered %q", got)
	}
	n2 := startTestNFC(t, false, "--nfc-coalesced", "accept")
	c, banner := rawAuthd(t, n2.addr("host-1"))
	if got, err := exchange(t, c, "BANNER \r\nBANNER \r\n"); got != banner {
		t.Fatalf("coalesced lines with accept: %q %v", got, err)
	}
}

func TestNFCOlderESXi(t *testing.T) {
	n := startTestNFC(t, false, "--nfc-esxi", "7")
	c, banner := rawAuthd(t, n.addr("host-1"))
	if strings.Contains(banner, "SHA256") {
		t.Fatalf("ESXi 7 banner %q", banner)
	}
	if got, _ := exchange(t, c, "THUMBPRINT_SHA2 PlainText\r\n"); got != authdNotLoggedIn {
		t.Fatalf("THUMBPRINT_SHA2 on ESXi 7: %q", got)
	}
	// HANDSHAKE (43) is refused with type 4 below lib 11 (nfc.md §3.1).
	tk := n.issue(t, ticketVMFiles, "vm-1", 0)
	nc, err := dialNFC(n.addr("host-1"), clientOpts{ticket: tk.id, service: tk.service, noClassic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.close()
	hs := frame(43)
	copy(hs[4:], "PlainText")
	_, _ = nc.conn.Write(hs)
	if _, err := nc.expectFrame(4); err != nil {
		t.Fatalf("HANDSHAKE on ESXi 7: %v", err)
	}
}

func TestNFCClassicRefusals(t *testing.T) {
	n := startTestNFC(t, false)
	for name, frames := range map[string][][]byte{
		"version 2":    {frame(33), frame(51, 4, 2), frame(54, 4, 4, 8, 7), []byte("vddk"), []byte("nbdmode"), frame(55, 4, 3), frame(52)},
		"features 1":   {frame(33), frame(51, 4, 11), frame(54, 4, 4, 8, 7), []byte("vddk"), []byte("nbdmode"), frame(55, 4, 1)},
		"order":        {frame(51, 4, 11)},
		"padding":      {frame(33, 100, 1)},
		"string len 0": {frame(33), frame(51, 4, 11), frame(54, 4, 0, 8, 7)},
	} {
		tk := n.issue(t, ticketVMFiles, "vm-1", 0)
		nc, err := dialNFC(n.addr("host-1"), clientOpts{ticket: tk.id, service: tk.service, noClassic: true})
		if err != nil {
			t.Fatal(err)
		}
		var last []byte
		for _, f := range frames {
			_, _ = nc.conn.Write(f)
		}
		_ = nc.raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			b := make([]byte, 264)
			if _, err := io.ReadFull(nc.br, b); err != nil {
				break
			}
			last = b
		}
		if last == nil || le.Uint32(last) != 4 {
			t.Fatalf("%s: last frame % x, want SESSION_COMPLETE", name, last)
		}
		nc.close()
	}
}

func TestNFCOpenReadWrite(t *testing.T) {
	n := startTestNFC(t, false)
	disk := n.disks.get(diskA)
	c, h := n.open(t, ticketRandomRW, "vm-1", 2000, diskA, true)

	// Reads: fragments of at most the 64 KiB buffer, each compression, holes as zeros.
	for _, comp := range []uint32{compNone, compZlib, compFastLZ, compSkipZ} {
		got, err := c.read(h, 0, 256<<10, comp)
		if err != nil || !bytes.Equal(got, disk.data[:256<<10]) {
			t.Fatalf("read with compression %d: %v", comp, err)
		}
	}
	if v, err := c.ddb(h, "adapterType"); err != nil || v != "lsilogic" {
		t.Fatalf("DDB adapterType: %q %v", v, err)
	}
	if v, err := c.ddb(h, "nope"); err != nil || v != "" {
		t.Fatalf("DDB nope: %q %v", v, err)
	}
	bm, err := c.allocated(h, 64<<10, 0, 16)
	if err != nil || !bytes.Equal(bm, []byte{0x05, 0, 0, 0}) {
		t.Fatalf("allocated: % x %v", bm, err)
	}
	if bm, err = c.allocated(h, 128<<10, 0, 3); err != nil || !bytes.Equal(bm, []byte{0x03, 0, 0, 0}) {
		t.Fatalf("allocated 128K chunks: % x %v", bm, err)
	}
	_, err = c.allocated(h, 64<<10, 512, 1)
	wantCode(t, err, nfcErrBadRequest, "misaligned allocation query")

	// Writes: fragments under one opId, one reply; every compression; read back.
	for i, comp := range []uint32{compNone, compZlib, compFastLZ, compSkipZ} {
		data := make([]byte, 200<<10)
		for j := range data {
			if j%3000 < 1500 {
				data[j] = byte(j/7 + i)
			}
		}
		off := uint64(384<<10 + i*4096)
		if err := c.write(h, off, data, 64<<10, comp); err != nil {
			t.Fatalf("write with compression %d: %v", comp, err)
		}
		if !bytes.Equal(disk.data[off:off+uint64(len(data))], data) {
			t.Fatalf("compression %d: disk differs", comp)
		}
		got, err := c.read(h, off, len(data), compNone)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back: %v", err)
		}
	}
	if bm, err = c.allocated(h, 64<<10, 0, 16); err != nil || bm[0] != 0xc5 || bm[1] != 0x03 {
		t.Fatalf("allocated after writes: % x %v", bm, err)
	}
	// A hand-made FastLZ block (README format: a literal, then two long matches of the last byte)
	// is decoded by the server into 512 bytes.
	fast := []byte{0x00, 'a', 0xE0, 0xFF, 0x00, 0xE0, 0xEE, 0x00}
	op := c.op
	c.op++
	if err := c.sendMsg(7, op, ioPayload(h, 0, compFastLZ, 0, 512, 0, 512, uint32(len(fast))), fast); err != nil {
		t.Fatal(err)
	}
	if m, err := c.recvMsg(0); err != nil || asError(m) != nil || m.op != op {
		t.Fatalf("FastLZ write: %+v %v", m, err)
	}
	if !bytes.Equal(disk.data[:512], bytes.Repeat([]byte{'a'}, 512)) {
		t.Fatal("FastLZ write not decoded")
	}
	// A block that does not decode to the announced length is refused.
	op = c.op
	c.op++
	if err := c.sendMsg(7, op, ioPayload(h, 0, compFastLZ, 0, 1024, 0, 1024, uint32(len(fast))), fast); err != nil {
		t.Fatal(err)
	}
	m, err := c.recvMsg(0)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, asError(m), nfcErrBadRequest, "a FastLZ block of 512 bytes announced as 1024")
	if st := n.hub.stats.snapshot().NFC; st.BytesRead < 4*256<<10 || st.BytesWritten != 4*200<<10+512 {
		t.Fatalf("stats %+v", st)
	}
	if err := c.shutdown(h); err != nil {
		t.Fatal(err)
	}
	if disk.opens != 0 {
		t.Fatalf("%d opens left", disk.opens)
	}
}

func TestNFCOpenFileReply(t *testing.T) {
	n := startTestNFC(t, false)
	c := n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), false)
	if err := c.openSession(64 << 10); err != nil {
		t.Fatal(err)
	}
	h, r, err := c.openFile(diskA, false)
	if err != nil {
		t.Fatal(err)
	}
	if h == 0 || le.Uint32(r[16:]) != 2 || le.Uint32(r[20:]) != 0x1e || le.Uint64(r[28:]) != 1<<20 ||
		le.Uint32(r[36:]) != 512 || le.Uint32(r[40:]) != 1 || le.Uint32(r[44:]) != 255 || le.Uint32(r[48:]) != 63 ||
		!bytes.Equal(r[0:8], make([]byte, 8)) || !bytes.Equal(r[52:60], make([]byte, 8)) {
		t.Fatalf("OPEN_FILE reply % x", r)
	}
	// Writing on a read-only open is 0x0b.
	err = c.write(h, 0, make([]byte, 512), 64<<10, compNone)
	wantCode(t, err, nfcErrReadOnly, "write on a read-only open")
	// One file per session by default (nfc.md §5.4).
	_, _, err = c.openFile(diskA2, false)
	wantCode(t, err, nfcErrBadRequest, "second OPEN_FILE")

	n2 := startTestNFC(t, false, "--nfc-files-per-session", "many", "--nfc-unknown-bytes", "noise")
	c2 := n2.connect(t, n2.issue(t, ticketVMFiles, "vm-1", 0), false)
	if err := c2.openSession(64 << 10); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{diskA, diskA2} {
		if _, r, err := c2.openFile(p, false); err != nil || bytes.Equal(r[52:60], make([]byte, 8)) {
			t.Fatalf("many files, noise: % x %v", r, err)
		}
	}
}

func TestNFCTicketBinding(t *testing.T) {
	n := startTestNFC(t, false)
	for _, tc := range []struct {
		kind  ticketKind
		vm    string
		key   int32
		path  string
		write bool
		code  uint32 // 0: opens
	}{
		{ticketVMFiles, "vm-1", 0, diskA2, false, 0},                      // any disk of its VM
		{ticketVMFiles, "vm-1", 0, diskB, false, nfcErrPermission},        // another VM's
		{ticketVMFiles, "vm-1", 0, diskA, true, nfcErrReadOnly},           // nfc.md §1: writable flags, GetVmFiles ticket
		{ticketRandomRead, "vm-1", 2000, diskA, false, 0},                 // its disk
		{ticketRandomRead, "vm-1", 2000, diskA2, false, nfcErrPermission}, // another disk
		{ticketRandomRead, "vm-1", 2000, diskA, true, nfcErrReadOnly},     // read-only ticket
		{ticketRandomRW, "vm-1", 2001, diskA2, true, 0},                   // writable
		{ticketRandomRW, "vm-1", 2000, "[ds1] nowhere.vmdk", false, nfcErrNotFound},
		{ticketRandomRW, "vm-2", 2000, diskB, true, nfcErrPermission}, // powered on: no writes
		{ticketRandomRW, "vm-2", 2000, diskB, false, 0},               // but reads
	} {
		c := n.connect(t, n.issue(t, tc.kind, tc.vm, tc.key), false)
		if err := c.openSession(64 << 10); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.openFile(tc.path, tc.write)
		if tc.code == 0 && err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if tc.code != 0 {
			e := wantCode(t, err, tc.code, tc.path)
			if tc.code == nfcErrPermission && !strings.HasPrefix(e.text, "NfcFssrvrOpen") {
				t.Fatalf("permission text %q", e.text)
			}
		}
		c.close()
	}
	// The lock rules of the backend refuse even reads (nfc.md §3.2 Errors).
	n.disks.get(diskB).refuse = "the writable leaf of a powered-on VM"
	c := n.connect(t, n.issue(t, ticketVMFiles, "vm-2", 0), false)
	if err := c.openSession(64 << 10); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.openFile(diskB, false)
	if e := wantCode(t, err, nfcErrPermission, "refused read"); !strings.Contains(e.text, "powered-on") {
		t.Fatalf("text %q", e.text)
	}
}

func TestNFCFragmentAndReplyOrder(t *testing.T) {
	for _, order := range []string{"reversed", "shuffled"} {
		n := startTestNFC(t, false, "--nfc-fragment-order", order)
		c, h := n.open(t, ticketVMFiles, "vm-1", 0, diskA, false)
		op, err := c.sendRead(h, 0, 256<<10, compNone)
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.recvMsg(0)
		if err != nil || m.op != op {
			t.Fatal(err)
		}
		data, frags, err := c.readFragments(m, 256<<10)
		if err != nil || !bytes.Equal(data, n.disks.get(diskA).data[:256<<10]) || len(frags) != 4 {
			t.Fatalf("%s fragments %v: %v", order, frags, err)
		}
		if order == "reversed" && frags[0] != 3*64<<10 {
			t.Fatalf("reversed fragments %v", frags)
		}
	}

	for _, order := range []string{"inorder", "reversed"} {
		n := startTestNFC(t, false, "--nfc-reply-order", order)
		c, h := n.open(t, ticketRandomRW, "vm-1", 2000, diskA, true)
		c.pending = &bytes.Buffer{} // every request in one write, so they are all outstanding at once
		var ops []uint32
		for i := 0; i < 4; i++ {
			op, err := c.sendRead(h, uint64(i)<<16, 64<<10, compNone)
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		// Pipelined writes: several opIds outstanding, every one answered.
		for i := 0; i < 4; i++ {
			op, err := c.sendWrite(h, uint64(512<<10+i*(128<<10)), bytes.Repeat([]byte{byte(i + 1)}, 128<<10), 64<<10, compNone)
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		if err := c.flushPending(); err != nil {
			t.Fatal(err)
		}
		var got []uint32
		for range ops {
			m, err := c.recvMsg(0)
			if err != nil {
				t.Fatal(err)
			}
			if err := asError(m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m.op)
		}
		if order == "inorder" && !equalOps(got, ops) {
			t.Fatalf("in order: %v, sent %v", got, ops)
		}
		if order == "reversed" && got[0] == ops[0] {
			t.Fatalf("reversed: %v, sent %v", got, ops)
		}
		for i := 0; i < 4; i++ {
			if d := n.disks.get(diskA).data[512<<10+i*(128<<10)]; d != byte(i+1) {
				t.Fatalf("write %d not stored", i)
			}
		}
	}
}

func tlsClient(c net.Conn) *tls.Conn { return tls.Client(c, &tls.Config{InsecureSkipVerify: true}) }

func equalOps(a, b []uint32) bool {
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

func TestNFCLimits(t *testing.T) {
	n := startTestNFC(t, false)
	c := n.connect(t, n.issue(t, ticketRandomRW, "vm-1", 2000), false)
	for _, size := range []uint64{32 << 10, 16 << 20, 32 << 20} {
		_, err := c.call(2, u32s(16, 4, size, 8, 1), nil, 0)
		wantCode(t, err, nfcErrNoMemory, "OPEN_SESSION buffer")
	}
	// The session goes on after a refused OPEN_SESSION; 2 MiB is the largest buffer.
	if err := c.openSession(2 << 20); err != nil {
		t.Fatal(err)
	}
	h, _, err := c.openFile(diskA, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.read(h, 0, 1<<20, compNone); err != nil || len(got) != 1<<20 {
		t.Fatalf("1 MiB read in one fragment: %v", err)
	}
	_, err = c.read(h, 0, 4<<20, compNone)
	wantCode(t, err, nfcErrNoMemory, "IO over --nfc-max-io")
	_, err = c.read(h, 100, 512, compNone)
	wantCode(t, err, nfcErrBadRequest, "unaligned read")
	_, err = c.read(h, 1<<20, 512, compNone)
	wantCode(t, err, nfcErrBadRequest, "read beyond the end")
	// A refused write (beyond the end) is answered once, after which the session goes on.
	err = c.write(h, 1<<20-512, make([]byte, 4096), 1024, compNone)
	wantCode(t, err, nfcErrBadRequest, "write beyond the end")
	if _, err := c.read(h, 0, 512, compNone); err != nil {
		t.Fatalf("after a refused write: %v", err)
	}

	// Out of sequence: OPEN_FILE before SET_SOCK_OPTS.
	c2 := n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), false)
	if _, err := c2.call(2, u32s(16, 4, 64<<10, 8, 1), nil, 0); err != nil {
		t.Fatal(err)
	}
	_, _, err = c2.openFile(diskA, false)
	wantCode(t, err, nfcErrBadRequest, "OPEN_FILE out of sequence")

	// Framing errors close the connection, with an ERROR when the header named an opId.
	for name, bad := range map[string]func(c *nfcClient) error{
		"opId skipped": func(c *nfcClient) error { c.op += 5; _, err := c.request(9, make([]byte, 12), nil); return err },
		"unknown type": func(c *nfcClient) error { _, err := c.request(99, make([]byte, 8), nil); return err },
		"wrong size":   func(c *nfcClient) error { _, err := c.request(9, make([]byte, 16), nil); return err },
		"huge path":    func(c *nfcClient) error { _, err := c.request(4, u32s(60, 0, 1<<30, 16, 2, 20, 0x1e), nil); return err },
		"bad direction": func(c *nfcClient) error {
			_, err := c.request(7, ioPayload(1, 5, 0, 0, 512, 0, 512, 512), nil)
			return err
		},
	} {
		c := n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), false)
		if err := c.openSession(64 << 10); err != nil {
			t.Fatal(err)
		}
		if err := bad(c); err != nil {
			t.Fatal(err)
		}
		m, err := c.recvMsg(0)
		if err != nil || m.typ != 1 {
			t.Fatalf("%s: %+v %v, want ERROR", name, m, err)
		}
		if _, err := c.recvMsg(0); err == nil {
			t.Fatalf("%s: connection still open", name)
		}
	}
	c3 := n.connect(t, n.issue(t, ticketVMFiles, "vm-1", 0), false)
	_, _ = c3.conn.Write(bytes.Repeat([]byte{0xff}, 16))
	if m, err := c3.recvMsg(0); err == nil {
		t.Fatalf("bad magic answered %+v", m)
	}
}

func TestNFCEmptyErrorsAndAcks(t *testing.T) {
	n := startTestNFC(t, false, "--nfc-error-payload", "empty", "--nfc-ack-payload", "empty", "--nfc-close-reply", "off")
	c, h := n.open(t, ticketVMFiles, "vm-1", 0, diskA, false)
	_, err := c.read(h, 0, 100, compNone)
	var e *nfcError
	if !errors.As(err, &e) || e.code != 0 {
		t.Fatalf("empty ERROR: %v", err)
	}
	// No replies to CLOSE_*: SESSION_COMPLETE right after them ends the connection.
	p := make([]byte, 8)
	le.PutUint64(p, h)
	for _, req := range []struct {
		typ uint32
		p   []byte
	}{{5, p}, {3, make([]byte, 4)}} {
		if _, err := c.request(req.typ, req.p, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.conn.Write(frame(4))
	_ = c.raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c.br); len(b) != 0 || err != nil {
		t.Fatalf("after close without replies: % x %v", b, err)
	}
}

func TestCompressionFormats(t *testing.T) {
	// FastLZ level 1: the README's examples.
	for _, v := range []struct {
		in   []byte
		want string
	}{
		{[]byte{0x02, 0x41, 0x42, 0x43}, "ABC"},
		{[]byte{0x03, 0x41, 0x42, 0x43, 0x44, 0x20, 0x02}, "ABCDBCD"},
		{[]byte{0x00, 0x61, 0x40, 0x00}, "aaaaa"},
		{[]byte{0x01, 0x44, 0x45, 0xE0, 0x01, 0x01}, "DEDEDEDEDEDE"},
	} {
		got, err := fastlzDecode(v.in, len(v.want))
		if err != nil || string(got) != v.want {
			t.Fatalf("fastlz % x: %q %v", v.in, got, err)
		}
	}
	// FastLZ level 2: a long length continued by a 255 byte, and a far reference.
	got, err := fastlzDecode([]byte{0x21, 'D', 'E', 0xE0, 0xFF, 0x05, 0x01}, 2+9+255+5)
	if err != nil || string(got) != strings.Repeat("DE", 135)+"D" {
		t.Fatalf("fastlz level 2 long: %v", err)
	}
	var l2 []byte
	var plain []byte
	for i := 0; i < 300; i++ {
		run := make([]byte, 32)
		for j := range run {
			run[j] = byte(i*32 + j)
		}
		op := byte(31)
		if i == 0 {
			op |= 0x20
		}
		l2 = append(append(l2, op), run...)
		plain = append(plain, run...)
	}
	l2 = append(l2, 0x20|31, 0xFF, 0x00, 0x10) // 3 bytes from 0x0010+8192 back
	from := len(plain) - (0x10 + 8192)
	plain = append(plain, plain[from:from+3]...)
	if got, err := fastlzDecode(l2, len(plain)); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("fastlz level 2 far: %v", err)
	}
	for _, bad := range [][]byte{{}, {0x40}, {0x05, 1, 2}, {0x00, 1, 0x20, 0x05}, {0x00, 1, 0xE0}} {
		if _, err := fastlzDecode(bad, 8); err == nil {
			t.Fatalf("fastlz % x accepted", bad)
		}
	}

	// Round trips of the encoders, and the zlib decoder's checks.
	data := bytes.Repeat([]byte("freevix NFC "), 5000)
	data = append(data, make([]byte, 8192)...)
	for _, kind := range []uint32{compZlib, compFastLZ, compSkipZ} {
		wire, used := compress(kind, data)
		if used != kind || len(wire) >= len(data) {
			t.Fatalf("compression %d did not shrink (%d)", kind, len(wire))
		}
		back, err := decompress(kind, wire, len(data))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("compression %d round trip: %v", kind, err)
		}
	}
	if _, kind := compress(compFastLZ, []byte{1, 2, 3}); kind != compNone {
		t.Fatal("an incompressible fragment must go as type 0")
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(data[:1000])
	_ = w.Close()
	if _, err := decompress(compZlib, z.Bytes(), 999); err == nil {
		t.Fatal("zlib stream longer than announced accepted")
	}
	if _, err := decompress(compSkipZ, []byte{8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0}, 8); err == nil {
		t.Fatal("skipz run beyond the fragment accepted")
	}
}
