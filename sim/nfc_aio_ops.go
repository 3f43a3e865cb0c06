// Concept: the AIO request handlers (reference/nfc.md §3.2): OPEN_SESSION, SET_SOCK_OPTS,
// SET_RES_POOL, OPEN_FILE with the ticket and lock checks, DDB_GET, IO reads (one request, one or
// more fragments) and writes (fragments under one opId, one reply), allocated blocks, CLOSE_FILE
// and CLOSE_SESSION. Each checks every field it reads; a request that is well framed but wrong is
// answered with an ERROR and the session goes on, a frame that breaks the framing closes it.

package main

import (
	"crypto/rand"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxBufCount   = 4096
	maxDDBValue   = 4096
	sockOptBuffer = 1675000 // nfc.md §3.2 SET_SOCK_OPTS reply: send/recv buffer sizes
	nfcDiskType   = 2       // nfc.md §3.2 OPEN_FILE @16: NFC_DISK
	flagsReadOnly = 0x1e    // nfc.md §3.2 OPEN_FILE @20
	flagsWritable = 0x1a
	flagBitRO     = 0x04
)

// openSession: nfc.md §3.2 OPEN_SESSION — @0 0, @4 buffer size (64 KiB–2 MiB, else ERROR),
// @8 buffer count, @12 0; the reply is 16 zeros and the size becomes the largest fragment.
// Assumed: the size is a multiple of 64 KiB (it is BufSizeIn64KB × 64 KiB).
func (a *aioConn) openSession(m aioMsg) []replyUnit {
	p := m.payload
	size, count := get32(p, 4), get32(p, 8)
	switch {
	case get32(p, 0) != 0 || get32(p, 12) != 0:
		return a.fail(m.opID, nfcErrBadRequest, "OPEN_SESSION @0 and @12 must be 0")
	case size < minAIOBuffer || size > maxAIOBuffer:
		return a.fail(m.opID, nfcErrNoMemory, fmt.Sprintf("OPEN_SESSION buffer size %d outside %d..%d", size, minAIOBuffer, maxAIOBuffer))
	case size%minAIOBuffer != 0:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("OPEN_SESSION buffer size %d is not a multiple of 64 KiB", size))
	case count == 0 || count > maxBufCount:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("OPEN_SESSION buffer count %d (1..%d)", count, maxBufCount))
	}
	a.bufSize = int(size)
	return a.reply(m, make([]byte, 16), nil)
}

// setSockOpts: nfc.md §3.2 — 12 zeros; the reply is the send and receive buffer sizes and u32 1.
func (a *aioConn) setSockOpts(m aioMsg) []replyUnit {
	if !zeroExcept(m.payload) {
		return a.fail(m.opID, nfcErrBadRequest, "SET_SOCK_OPTS must be 12 zeros")
	}
	p := make([]byte, 12)
	put32(p, 0, sockOptBuffer)
	put32(p, 4, sockOptBuffer)
	put32(p, 8, 1)
	return a.reply(m, p, nil)
}

// setResPool: nfc.md §3.2 — u32 1; the reply is unknown (§5.3, --nfc-ack-payload).
func (a *aioConn) setResPool(m aioMsg) []replyUnit {
	if get32(m.payload, 0) != 1 {
		return a.fail(m.opID, nfcErrBadRequest, "SET_RES_POOL must be u32 1")
	}
	return a.ack(m)
}

// ack answers SET_RES_POOL and CLOSE_*, whose replies nfc.md does not give (§5.3).
func (a *aioConn) ack(m aioMsg) []replyUnit {
	if (m.typ == aioCloseFile || m.typ == aioCloseSession) && !a.pol.closeReplies {
		return nil
	}
	var p []byte
	if !a.pol.emptyAcks {
		p = make([]byte, len(m.payload))
		unknownFill(a.pol, p)
	}
	return a.reply(m, p, nil)
}

// openFile: nfc.md §3.2 OPEN_FILE — @0 path length, @16 type 2, @20 flags (0x1e read-only,
// 0x1a read-write), zeros elsewhere, the path as extra. The checks, in order: one file per
// session (--nfc-files-per-session), a disk of some VM (owner), the ticket's VM and disk, a
// writable ticket for writable flags (0x0b, nfc.md §1), no write to a powered-on VM's disk, the
// backend's lock rules (readRefusal), then the open itself.
func (a *aioConn) openFile(m aioMsg) []replyUnit {
	p := m.payload
	if !zeroExcept(p, 0, 4, 16, 24) {
		return a.fail(m.opID, nfcErrBadRequest, "OPEN_FILE has bytes outside @0, @16, @20")
	}
	if typ := get32(p, 16); typ != nfcDiskType {
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("OPEN_FILE type %d, only %d (NFC_DISK) is simulated", typ, nfcDiskType))
	}
	flags := get32(p, 20)
	var write bool
	switch {
	case flags == flagsReadOnly:
	case flags == flagsWritable:
		write = true
	case a.pol.lenientFlags:
		write = flags&flagBitRO == 0
	default:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("OPEN_FILE flags %#x (%#x read-only, %#x read-write)", flags, flagsReadOnly, flagsWritable))
	}
	path := string(m.extra)
	if !utf8.ValidString(path) || strings.ContainsRune(path, 0) {
		return a.fail(m.opID, nfcErrBadRequest, "OPEN_FILE path is not UTF-8 without NUL")
	}
	if a.opened > 0 && !a.pol.manyFiles {
		return a.fail(m.opID, nfcErrBadRequest, "one OPEN_FILE per NFC session (--nfc-files-per-session one)")
	}

	disks, tk := a.hub.disks, a.tk
	vm, key := disks.owner(path)
	switch {
	case vm == "":
		return a.fail(m.opID, nfcErrNotFound, "NfcFssrvrOpen: no disk "+path)
	case vm != tk.vm:
		return a.fail(m.opID, nfcErrPermission, fmt.Sprintf("NfcFssrvrOpen: permission denied: %s belongs to %s, the ticket to %s", path, vm, tk.vm))
	case tk.kind != ticketVMFiles && key != tk.diskKey:
		return a.fail(m.opID, nfcErrPermission, fmt.Sprintf("NfcFssrvrOpen: permission denied: %s is disk %d, the ticket is for disk %d", path, key, tk.diskKey))
	case write && !tk.writable():
		return a.fail(m.opID, nfcErrReadOnly, "NfcFssrvrOpen: read-only ticket ("+ticketKindName[tk.kind]+") cannot open for writing")
	case write && a.hub.vms.poweredOn(vm):
		return a.fail(m.opID, nfcErrPermission, "NfcFssrvrOpen: permission denied: "+vm+" is powered on; its disk cannot be opened for writing")
	}
	if refused, why := disks.readRefusal(path); refused {
		return a.fail(m.opID, nfcErrPermission, "NfcFssrvrOpen: permission denied: "+why)
	}
	d, err := disks.openLogical(path, write)
	if err != nil {
		return a.fail(m.opID, openErrorCode(err), "NfcFssrvrOpen: "+err.Error())
	}
	handle, err := a.newHandle()
	if err != nil {
		_ = d.Close()
		return a.fail(m.opID, nfcErrNoMemory, err.Error())
	}
	a.files[handle] = &aioFile{handle: handle, path: path, disk: d, write: write}
	a.opened++

	// nfc.md §3.2 OPEN_FILE reply: @8 handle, @16 type, @20 flags, @28 capacity (unaligned),
	// @36 sector size, @40/44/48 C/H/S; the other bytes are unknown (§5.2).
	r := make([]byte, 60)
	unknownFill(a.pol, r[0:8])
	unknownFill(a.pol, r[24:28])
	unknownFill(a.pol, r[52:60])
	put64(r, 8, handle)
	put32(r, 16, nfcDiskType)
	put32(r, 20, flags)
	put64(r, 28, uint64(d.Size()))
	put32(r, 36, sectorSize)
	c, h, s := nfcGeometry(d)
	put32(r, 40, c)
	put32(r, 44, h)
	put32(r, 48, s)
	return a.reply(m, r, nil)
}

// newHandle makes an opaque, non-zero, unused file handle.
func (a *aioConn) newHandle() (uint64, error) {
	for {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		h := get64(b[:], 0)
		if h != 0 && a.files[h] == nil {
			return h, nil
		}
	}
}

// nfcGeometry is the physical C/H/S of the OPEN_FILE reply: the descriptor's geometry.* keys, or
// (assumed, a SCSI-like default) 255 heads, 63 sectors and the cylinders that fit, at least 1.
func nfcGeometry(d logicalDisk) (c, h, s uint32) {
	var vals [3]uint32
	found := 0
	for i, key := range []string{"geometry.cylinders", "geometry.heads", "geometry.sectors"} {
		if v, ok := d.DDB(key); ok {
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				vals[i] = uint32(n)
				found++
			}
		}
	}
	if found == 3 {
		return vals[0], vals[1], vals[2]
	}
	cyl := d.Size() / sectorSize / (255 * 63)
	if cyl < 1 {
		cyl = 1
	}
	if cyl > 1<<32-1 {
		cyl = 1<<32 - 1
	}
	return uint32(cyl), 255, 63
}

// file returns the open file named by handle, or nil.
func (a *aioConn) file(handle uint64) *aioFile { return a.files[handle] }

// ddbGet: nfc.md §3.2 DDB_GET — u64 handle, u32 key length, u32 0, the key (without "ddb.") as
// extra; the reply has the value length @12 (0 = not found) and the value as extra.
func (a *aioConn) ddbGet(m aioMsg) []replyUnit {
	f := a.file(get64(m.payload, 0))
	switch {
	case f == nil:
		return a.fail(m.opID, nfcErrBadRequest, "DDB_GET on an unknown handle")
	case get32(m.payload, 12) != 0:
		return a.fail(m.opID, nfcErrBadRequest, "DDB_GET @12 must be 0")
	}
	for _, c := range m.extra {
		if c <= 0x20 || c > 0x7e {
			return a.fail(m.opID, nfcErrBadRequest, "DDB_GET key is not printable ASCII")
		}
	}
	value, ok := f.disk.DDB(string(m.extra))
	if !ok {
		value = ""
	}
	if len(value) > maxDDBValue {
		return a.fail(m.opID, nfcErrBadRequest, "DDB value too long")
	}
	r := make([]byte, 16)
	unknownFill(a.pol, r[0:12])
	put32(r, 12, uint32(len(value)))
	return a.reply(m, r, []byte(value))
}

// ioRequest is the 44-byte IO layout (nfc.md §3.2 IO request).
type ioRequest struct {
	handle                                uint64
	dir, comp                             uint32 // @8 low and high 32 bits
	off                                   uint64
	total, fragOff, fragLen, wire, unused uint32
}

func parseIO(p []byte) ioRequest {
	dc := get64(p, 8)
	return ioRequest{
		handle: get64(p, 0), dir: uint32(dc), comp: uint32(dc >> 32), off: get64(p, 16),
		total: get32(p, 24), fragOff: get32(p, 28), fragLen: get32(p, 32), wire: get32(p, 36), unused: get32(p, 40),
	}
}

// io answers an IO message: a read, or one fragment of a write.
func (a *aioConn) io(m aioMsg) ([]replyUnit, bool) {
	q := parseIO(m.payload)
	if q.unused != 0 || q.comp > compSkipZ {
		if a.write == nil && q.dir == ioRead {
			return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("IO @40 %d / compression %d", q.unused, q.comp)), false
		}
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("IO write fragment @40 %d / compression %d", q.unused, q.comp)), true
	}
	if q.dir == ioRead {
		if a.write != nil {
			return a.fail(m.opID, nfcErrBadRequest, "IO read under the opId of an unfinished write"), true
		}
		return a.read(m, q), false
	}
	return a.writeFragment(m, q)
}

// checkIO checks an operation's range: non-empty, at most --nfc-max-io (else ERROR 5), sector
// aligned (assumed: VixDiskLib works in sectors), inside the disk.
func (a *aioConn) checkIO(m aioMsg, f *aioFile, q ioRequest) []replyUnit {
	size := uint64(f.disk.Size())
	switch {
	case q.total == 0:
		return a.fail(m.opID, nfcErrBadRequest, "IO of length 0")
	case int64(q.total) > int64(a.pol.maxIO):
		return a.fail(m.opID, nfcErrNoMemory, fmt.Sprintf("Failed to allocate the requested %d bytes (--nfc-max-io %d)", q.total, a.pol.maxIO))
	case q.off%sectorSize != 0 || q.total%sectorSize != 0:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("IO %d+%d is not sector aligned", q.off, q.total))
	case q.off > size || uint64(q.total) > size-q.off:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("IO %d+%d beyond the disk's %d bytes", q.off, q.total, size))
	}
	return nil
}

// read: nfc.md §3.2 IO Read — one request with 24 = 32 = 36 = length and 28 = 0; the reply is one
// or more type-7 fragments of at most the buffer size, in the same layout with @0 = 0, each
// compressed as asked (or type 0 when that does not shrink it).
func (a *aioConn) read(m aioMsg, q ioRequest) []replyUnit {
	f := a.file(q.handle)
	switch {
	case f == nil:
		return a.fail(m.opID, nfcErrBadRequest, "IO read on an unknown handle")
	case q.fragOff != 0 || q.fragLen != q.total || q.wire != q.total:
		return a.fail(m.opID, nfcErrBadRequest, "IO read wants @24 = @32 = @36 = length and @28 = 0")
	}
	if code, armed := a.hub.faults.takeError(); armed {
		return a.fail(m.opID, code, "injected IO error")
	}
	if fail := a.checkIO(m, f, q); fail != nil {
		return fail
	}
	buf := make([]byte, q.total)
	if n, err := f.disk.ReadAt(buf, int64(q.off)); n != len(buf) {
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("read %d+%d: %v", q.off, q.total, err))
	}
	a.hub.stats.nfc(func(v *nfcStatsView) { v.BytesRead += int64(len(buf)) })

	var frames [][]byte
	for pos := 0; pos < len(buf); pos += a.bufSize {
		chunk := buf[pos:minInt(pos+a.bufSize, len(buf))]
		data, kind := compress(q.comp, chunk)
		p := make([]byte, 44)
		put64(p, 8, uint64(ioRead)|uint64(kind)<<32)
		put64(p, 16, q.off)
		put32(p, 24, q.total)
		put32(p, 28, uint32(pos))
		put32(p, 32, uint32(len(chunk)))
		put32(p, 36, uint32(len(data)))
		frames = append(frames, aioFrame(aioIO, m.opID, p, data))
	}
	permute(a.rng, a.pol.fragmentOrder, frames)
	return []replyUnit{{io: true, frames: frames}}
}

// writeFragment: nfc.md §3.2 IO Write — fragments of at most the buffer size under one opId, the
// first at @28 = 0, each at the previous one's end, with its extra (@36 bytes, compressed as the
// high half of @8 says); after the last one a single 44-byte reply, no extra (assumed: the
// request's layout with @0 = 0, @28 = 0, @32 = total, @36 = 0). A fragment that breaks this closes
// the connection; a write that is refused (read-only open, range, injected error, bad data) is
// answered by one ERROR and its remaining fragments are read and dropped.
func (a *aioConn) writeFragment(m aioMsg, q ioRequest) ([]replyUnit, bool) {
	w := a.write
	fatal := func(format string, args ...interface{}) ([]replyUnit, bool) {
		return a.fail(m.opID, nfcErrBadRequest, "IO write: "+fmt.Sprintf(format, args...)), true
	}
	switch {
	case w == nil && (q.fragOff != 0 || q.total == 0):
		return fatal("first fragment at %d of %d bytes", q.fragOff, q.total)
	case w != nil && (q.handle != w.file.handle || int64(q.off) != w.off || q.total != w.total || q.fragOff != w.got):
		return fatal("fragment (%d+%d at %d of %d) does not continue opId %d (%d of %d bytes)",
			q.off, q.fragLen, q.fragOff, q.total, w.opID, w.got, w.total)
	case q.fragLen == 0 || int(q.fragLen) > a.bufSize || uint64(q.fragOff)+uint64(q.fragLen) > uint64(q.total):
		return fatal("fragment of %d bytes at %d of %d (buffer %d)", q.fragLen, q.fragOff, q.total, a.bufSize)
	case int(q.wire) != len(m.extra) || int(q.wire) > a.bufSize || q.comp == compNone && q.wire != q.fragLen:
		return fatal("fragment of %d bytes carries %d on the wire (compression %d)", q.fragLen, q.wire, q.comp)
	}

	var units []replyUnit
	if w == nil {
		f := a.file(q.handle)
		w = &aioWrite{opID: m.opID, file: f, off: int64(q.off), total: q.total}
		if f == nil {
			w.file = &aioFile{handle: q.handle}
			units, w.failed = a.fail(m.opID, nfcErrBadRequest, "IO write on an unknown handle"), true
		} else if !f.write {
			units, w.failed = a.fail(m.opID, nfcErrReadOnly, "IO write on a read-only open"), true
		} else if code, armed := a.hub.faults.takeError(); armed {
			units, w.failed = a.fail(m.opID, code, "injected IO error"), true
		} else if fail := a.checkIO(m, f, q); fail != nil {
			units, w.failed = fail, true
		}
	}
	if !w.failed {
		data, err := decompress(q.comp, m.extra, int(q.fragLen))
		if err == nil {
			var n int
			n, err = w.file.disk.WriteAt(data, w.off+int64(q.fragOff))
			a.hub.stats.nfc(func(v *nfcStatsView) { v.BytesWritten += int64(n) })
		}
		if err != nil {
			units, w.failed = a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("IO write at %d: %v", w.off+int64(q.fragOff), err)), true
		}
	}
	w.got += q.fragLen
	a.write = w
	if w.got < w.total {
		return units, false
	}
	a.write = nil
	if w.failed {
		return units, false
	}
	p := make([]byte, 44)
	put64(p, 8, uint64(ioWrite))
	put64(p, 16, uint64(w.off))
	put32(p, 24, w.total)
	put32(p, 32, w.total)
	return a.reply(m, p, nil), false
}

// allocated: nfc.md §3.2 allocated blocks (type 13) — @0 handle, @8 0, @16 chunk size, @24 start,
// @32 chunk count, @40 0 (u64 each); start (and so length) must be chunk multiples, else ERROR.
// The reply is 48 bytes (unknown, §5.2) and a bitmap, LSB first, 1 = allocated, ceil(n/8) bytes
// rounded up to a multiple of 4. Assumed besides: the chunk size is a multiple of 512, the bitmap
// fits the buffer size, and every chunk starts inside the disk (the last may end past it).
func (a *aioConn) allocated(m aioMsg) []replyUnit {
	p := m.payload
	f := a.file(get64(p, 0))
	chunk, start, count := get64(p, 16), get64(p, 24), get64(p, 32)
	bitmapLen := (count + 7) / 8
	bitmapLen = (bitmapLen + 3) &^ 3
	switch {
	case f == nil:
		return a.fail(m.opID, nfcErrBadRequest, "allocated blocks on an unknown handle")
	case get64(p, 8) != 0 || get64(p, 40) != 0:
		return a.fail(m.opID, nfcErrBadRequest, "allocated blocks @8 and @40 must be 0")
	case chunk == 0 || chunk%sectorSize != 0:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("chunk size %d is not a positive multiple of 512", chunk))
	case start%chunk != 0:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("start %d is not a multiple of the chunk size %d", start, chunk))
	case count == 0 || count > uint64(a.bufSize)*8:
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("chunk count %d (1..%d)", count, a.bufSize*8))
	}
	size := uint64(f.disk.Size())
	hi, last := bits.Mul64(count-1, chunk)
	if hi != 0 || start >= size || last >= size-start {
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("%d chunks of %d from %d reach beyond the disk's %d bytes", count, chunk, start, size))
	}
	end := start + last + chunk
	if end > size || end < start {
		end = size
	}

	bitmap := make([]byte, bitmapLen)
	for pos := start; pos < end; {
		alloc, run, err := f.disk.Allocated(int64(pos), int64(end-pos))
		if err != nil || run <= 0 || uint64(run) > end-pos {
			return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("allocation at %d: run %d, %v", pos, run, err))
		}
		if alloc {
			for c := (pos - start) / chunk; c <= (pos+uint64(run)-1-start)/chunk; c++ {
				bitmap[c/8] |= 1 << (c % 8)
			}
		}
		pos += uint64(run)
	}
	r := make([]byte, 48)
	unknownFill(a.pol, r)
	return a.reply(m, r, bitmap)
}

// closeFile: nfc.md §3.2 CLOSE_FILE — u64 handle; the reply is unknown (§5.3).
func (a *aioConn) closeFile(m aioMsg) []replyUnit {
	handle := get64(m.payload, 0)
	f := a.file(handle)
	if f == nil {
		return a.fail(m.opID, nfcErrBadRequest, "CLOSE_FILE on an unknown handle")
	}
	delete(a.files, handle)
	err := f.disk.Flush()
	if cerr := f.disk.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return a.fail(m.opID, nfcErrBadRequest, "CLOSE_FILE: "+err.Error())
	}
	return a.ack(m)
}

// closeSession: nfc.md §3.2 CLOSE_SESSION — u32 0; every file still open is closed. Only the
// classic SESSION_COMPLETE may follow.
func (a *aioConn) closeSession(m aioMsg) []replyUnit {
	a.closeFiles()
	a.step = stepClosed
	if get32(m.payload, 0) != 0 {
		return a.fail(m.opID, nfcErrBadRequest, "CLOSE_SESSION must be u32 0")
	}
	return a.ack(m)
}
