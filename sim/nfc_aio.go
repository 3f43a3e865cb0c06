// Concept: the AIO phase of an NFC session (reference/nfc.md §3.2) — the message reader, the
// pipeline that answers outstanding requests (in order, or reversed/shuffled by --nfc-reply-order,
// §5.5), and the session state every request handler works on (nfc_aio_ops.go). Sequence:
// OPEN_SESSION → SET_SOCK_OPTS → SET_RES_POOL → OPEN_FILE, then DDB_GET / IO / allocated blocks /
// CLOSE_FILE, then CLOSE_SESSION and the classic SESSION_COMPLETE (type 4) that ends it.
//
// Two goroutines per connection: the reader parses frames (a frame it cannot trust ends the
// reading; the handler then answers with an ERROR where the header named an opId, and closes),
// and the handler owns all session state and writes every reply. The reader is at most
// --nfc-max-outstanding messages ahead; beyond that it stops reading (it never fails for it).

package main

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"net"
	"time"
)

// aioMsg is one message from the client, or the reader's last word.
type aioMsg struct {
	typ, opID      uint32
	payload, extra []byte
	complete       bool  // the classic SESSION_COMPLETE after CLOSE_SESSION: the session is over
	err            error // the frame is bad and nothing more is read
	answer         bool  // err deserves an ERROR under opID (the header was sound)
}

// readAIO reads messages from br and sends them on out until an error or until done is closed;
// it closes out when it stops.
func (a *aioConn) readAIO(br *bufio.Reader, out chan<- aioMsg, done <-chan struct{}) {
	defer close(out)
	defer a.hub.survive("AIO reader")
	for closing := false; ; {
		var m aioMsg
		if closing {
			m = readSessionComplete(br)
		} else {
			m = readAIOMessage(br)
		}
		select {
		case out <- m:
		case <-done:
			return
		}
		if m.err != nil || m.complete {
			return
		}
		closing = m.typ == aioCloseSession
	}
}

// readSessionComplete reads the classic type-4 frame that follows CLOSE_SESSION (nfc.md §3.2 Close).
func readSessionComplete(br *bufio.Reader) aioMsg {
	f := make([]byte, classicFrameSize)
	if _, err := io.ReadFull(br, f); err != nil {
		return aioMsg{err: err}
	}
	if get32(f, 0) != classicSessionComplete || !zeroExcept(f, 0, 4) {
		return aioMsg{err: fmt.Errorf("after CLOSE_SESSION: classic frame type %d, want SESSION_COMPLETE (4)", get32(f, 0))}
	}
	return aioMsg{complete: true}
}

// readAIOMessage reads one header, its payload and its extra, checking the magic, the type, the
// payload size fixed for the type, and the extra's length against its cap.
func readAIOMessage(br *bufio.Reader) aioMsg {
	var hdr [aioHeaderSize]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return aioMsg{err: err}
	}
	if magic := get32(hdr[:], 0); magic != aioMagic {
		return aioMsg{err: fmt.Errorf("bad AIO magic %#08x", magic)}
	}
	m := aioMsg{typ: get32(hdr[:], 4), opID: get32(hdr[:], 12)}
	size := get32(hdr[:], 8)
	bad := func(format string, args ...interface{}) aioMsg {
		m.err, m.answer = fmt.Errorf(format, args...), true
		return m
	}
	want, known := aioRequestSize[m.typ]
	switch {
	case m.typ == aioGetFileInfo:
		if size > maxFileInfoPayload {
			return bad("GET_FILE_INFO payload of %d bytes (at most %d)", size, maxFileInfoPayload)
		}
	case !known:
		return bad("unknown AIO request type %d", m.typ)
	case int64(size) != int64(want):
		return bad("%s payload of %d bytes, want %d", typeName(m.typ), size, want)
	}
	m.payload = make([]byte, size)
	if _, err := io.ReadFull(br, m.payload); err != nil {
		return aioMsg{err: err}
	}

	var extra, limit uint32 // limit 0: the type carries no extra
	switch m.typ {
	case aioOpenFile: // nfc.md §3.2 OPEN_FILE: @0 path length
		extra, limit = get32(m.payload, 0), maxPathLength
	case aioDDBGet: // nfc.md §3.2 DDB_GET: u32 key length @8
		extra, limit = get32(m.payload, 8), maxDDBKeyLength
	case aioIO: // nfc.md §3.2 IO: @36 extra length on the wire, writes only (a read carries its length there, no extra)
		switch dir := uint32(get64(m.payload, 8)); dir {
		case ioWrite:
			extra, limit = get32(m.payload, 36), maxAIOBuffer
		case ioRead:
		default:
			return bad("IO direction %d (0 write, 1 read)", dir)
		}
	}
	if limit != 0 && (extra == 0 || extra > limit) {
		return bad("%s extra of %d bytes (1..%d)", typeName(m.typ), extra, limit)
	}
	if extra > 0 {
		m.extra = make([]byte, extra)
		if _, err := io.ReadFull(br, m.extra); err != nil {
			return aioMsg{err: err}
		}
	}
	return m
}

// replyUnit is all that answers one opId: one frame, or a read's fragments.
type replyUnit struct {
	io     bool // an IO reply: the target of the drop fault
	frames [][]byte
}

func (u replyUnit) size() int {
	n := 0
	for _, f := range u.frames {
		n += len(f)
	}
	return n
}

// Gathering replies to reorder them (--nfc-reply-order reversed/shuffled): wait this long for
// further requests, and hold at most this many bytes of replies.
const (
	gatherWindow   = 10 * time.Millisecond
	maxGatherBytes = 64 << 20
)

// aioFile is one OPEN_FILE's disk.
type aioFile struct {
	handle uint64
	path   string
	disk   logicalDisk
	write  bool
}

// aioWrite is a write operation whose fragments are still arriving (all under one opId).
type aioWrite struct {
	opID       uint32
	file       *aioFile
	off        int64
	total, got uint32
	failed     bool // an ERROR has answered it; the rest of its fragments are read and dropped
}

// Session steps, in the order nfc.md §3.2 "Open" gives.
const (
	stepOpenSession = iota
	stepSockOpts
	stepResPool
	stepOpenFile
	stepOpen // a file was opened; files may be used and closed
	stepClosed
)

type aioConn struct {
	hub  *nfcHub
	pol  *nfcPolicy
	tk   nfcTicket
	conn net.Conn
	rng  *mrand.Rand

	step    int
	nextOp  uint32 // nfc.md §3.2: opId starts at 0 and grows by 1 per request
	bufSize int    // OPEN_SESSION @4: the largest fragment
	files   map[uint64]*aioFile
	opened  int // OPEN_FILEs that succeeded
	write   *aioWrite
}

func newAIOConn(h *nfcHub, tk nfcTicket, conn net.Conn) *aioConn {
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	return &aioConn{
		hub: h, pol: h.pol, tk: tk, conn: conn, files: make(map[uint64]*aioFile),
		rng: mrand.New(mrand.NewSource(int64(binary.LittleEndian.Uint64(seed[:])))),
	}
}

var errDropped = errors.New("connection dropped by the admin fault")

// serve answers messages until the session ends or the connection fails.
func (a *aioConn) serve(br *bufio.Reader) error {
	in := make(chan aioMsg, a.pol.maxOutstanding)
	done := make(chan struct{})
	defer close(done)
	go a.readAIO(br, in, done)

	for {
		m, ok := <-in
		if !ok {
			return nil
		}
		units, stop := a.handle(m)
		if a.pol.replyOrder != orderInOrder && !stop {
			var tail []replyUnit
			units, tail, stop = a.gather(in, units)
			permute(a.rng, a.pol.replyOrder, units)
			units = append(units, tail...)
		}
		if err := a.flush(units); err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
}

// gather handles further messages that arrive within gatherWindow, up to --nfc-max-outstanding
// replies or maxGatherBytes. It returns the replies to reorder, the replies that must stay last
// (those of the message that ended the session), and whether the session ended.
func (a *aioConn) gather(in <-chan aioMsg, units []replyUnit) ([]replyUnit, []replyUnit, bool) {
	timer := time.NewTimer(gatherWindow)
	defer timer.Stop()
	bytes := 0
	for _, u := range units {
		bytes += u.size()
	}
	for len(units) < a.pol.maxOutstanding && bytes < maxGatherBytes {
		select {
		case m, ok := <-in:
			if !ok {
				return units, nil, true
			}
			more, stop := a.handle(m)
			if stop {
				return units, more, true
			}
			for _, u := range more {
				bytes += u.size()
			}
			units = append(units, more...)
		case <-timer.C:
			return units, nil, false
		}
	}
	return units, nil, false
}

// flush sends replies, applying the armed delay and drop faults.
func (a *aioConn) flush(units []replyUnit) error {
	for _, u := range units {
		if d := a.hub.faults.takeDelay(); d > 0 {
			time.Sleep(d)
		}
		if u.io {
			if n := a.hub.faults.takeDrop(); n >= 0 {
				var all []byte
				for _, f := range u.frames {
					all = append(all, f...)
				}
				if n > len(all) {
					n = len(all)
				}
				_, _ = a.conn.Write(all[:n])
				return errDropped
			}
		}
		for _, f := range u.frames {
			if _, err := a.conn.Write(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// handle processes one message and returns its replies, and whether the connection must close
// after them.
func (a *aioConn) handle(m aioMsg) ([]replyUnit, bool) {
	switch {
	case m.err != nil && m.answer:
		return a.fail(m.opID, nfcErrBadRequest, m.err.Error()), true
	case m.err != nil:
		if !errors.Is(m.err, io.EOF) {
			verbose.Printf("NFC AIO read: %v", m.err)
		}
		return nil, true
	case m.complete:
		return nil, true
	}
	a.hub.stats.nfc(func(v *nfcStatsView) { v.Requests[typeName(m.typ)]++ })

	if w := a.write; w != nil {
		// nfc.md §3.2 IO Write: every fragment of one write shares its opId.
		if m.typ != aioIO || m.opID != w.opID {
			return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("%s (opId %d) while write opId %d has %d of %d bytes",
				typeName(m.typ), m.opID, w.opID, w.got, w.total)), true
		}
		return a.io(m)
	}
	if m.opID != a.nextOp {
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("opId %d, want %d", m.opID, a.nextOp)), true
	}
	a.nextOp++

	switch m.typ {
	case aioOpenSession:
		return a.inStep(m, stepOpenSession, a.openSession)
	case aioSetSockOpts:
		return a.inStep(m, stepSockOpts, a.setSockOpts)
	case aioSetResPool:
		return a.inStep(m, stepResPool, a.setResPool)
	case aioOpenFile:
		if a.step == stepOpen {
			return a.openFile(m), false
		}
		return a.inStep(m, stepOpenFile, func(m aioMsg) []replyUnit { return a.openFile(m) })
	case aioCloseSession:
		if a.step == stepOpenSession {
			return a.fail(m.opID, nfcErrBadRequest, "CLOSE_SESSION before OPEN_SESSION"), false
		}
		return a.closeSession(m), false
	}
	if a.step != stepOpen {
		return a.fail(m.opID, nfcErrBadRequest, typeName(m.typ)+" before OPEN_FILE"), false
	}
	switch m.typ {
	case aioIO:
		return a.io(m)
	case aioDDBGet:
		return a.ddbGet(m), false
	case aioAllocated:
		return a.allocated(m), false
	case aioCloseFile:
		return a.closeFile(m), false
	}
	// GET_FILE_INFO: nfc.md §3.2 "[U], not needed".
	return a.fail(m.opID, nfcErrBadRequest, "GET_FILE_INFO is not simulated"), false
}

// inStep runs f when the session is at step want (the Open sequence, nfc.md §3.2 "Open"),
// moving it to the next step when f's reply is not an ERROR.
func (a *aioConn) inStep(m aioMsg, want int, f func(aioMsg) []replyUnit) ([]replyUnit, bool) {
	if a.step != want {
		return a.fail(m.opID, nfcErrBadRequest, fmt.Sprintf("%s out of sequence (OPEN_SESSION, SET_SOCK_OPTS, SET_RES_POOL, OPEN_FILE)", typeName(m.typ))), false
	}
	units := f(m)
	if len(units) == 1 && len(units[0].frames) == 1 && get32(units[0].frames[0], 4) != aioError {
		a.step++
	}
	return units, false
}

// reply is a single frame answering m with its own type.
func (a *aioConn) reply(m aioMsg, payload, extra []byte) []replyUnit {
	return []replyUnit{{io: m.typ == aioIO, frames: [][]byte{aioFrame(m.typ, m.opID, payload, extra)}}}
}

// fail is an ERROR answering opID.
func (a *aioConn) fail(opID, code uint32, text string) []replyUnit {
	a.hub.stats.nfc(func(v *nfcStatsView) { v.Errors++ })
	verbose.Printf("NFC AIO: ERROR %#x to opId %d: %s", code, opID, text)
	return []replyUnit{{frames: [][]byte{aioErrorFrame(a.pol, opID, code, text)}}}
}

// closeFiles flushes and closes every open file (at the end of the connection, however it ends).
func (a *aioConn) closeFiles() {
	for h, f := range a.files {
		_ = f.disk.Flush()
		_ = f.disk.Close()
		delete(a.files, h)
	}
}

// permute reorders s as order says.
func permute[T any](rng *mrand.Rand, order nfcOrder, s []T) {
	switch order {
	case orderReversed:
		for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
	case orderShuffled:
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
}
