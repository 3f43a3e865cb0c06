// Concept: a minimal NFC client, written from reference/nfc.md alone: the authd handshake (§2), both
// transports, the classic frames (§3.1) and AIO requests (§3.2), with replies matched by opId so
// pipelining and out-of-order fragments can be checked. The tests drive the responder with it, and
// the simulator measures its own NFC serving rate with it (GET /nfc/readrate, nfc_readrate.go).

package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

var le = binary.LittleEndian

// clientOpts describe one NFC connection.
type clientOpts struct {
	ticket    string // HostServiceTicket.sessionId
	service   string // "vpxa-nfc" or "nfc"
	ssl       bool   // nbdssl
	sha1      string // pin of the first TLS certificate ("" = do not check)
	sha2      bool   // send THUMBPRINT_SHA2 when the banner offers it
	noClassic bool   // stop after PROXY
}

type nfcClient struct {
	raw    net.Conn
	conn   net.Conn // the NFC transport after PROXY
	br     *bufio.Reader
	banner string
	peer   []byte // DER of the first TLS certificate
	peer2  []byte // DER of the second (nbdssl)
	op     uint32
	// pending, when set, collects AIO messages instead of sending them (flushPending sends them
	// in one write).
	pending *bytes.Buffer
}

func (c *nfcClient) flushPending() error {
	b := c.pending.Bytes()
	c.pending = nil
	_, err := c.conn.Write(b)
	return err
}

// nfcError is an AIO ERROR reply (payload as the simulator lays it out, nfc_wire.go).
type nfcError struct {
	op   uint32
	code uint32
	text string
}

func (e *nfcError) Error() string {
	return fmt.Sprintf("NFC ERROR %#x (opId %d): %s", e.code, e.op, e.text)
}

// authdRefusal is a non-200 authd reply.
type authdRefusal struct{ line string }

func (e *authdRefusal) Error() string { return "authd: " + e.line }

func colonHex(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// readLineRaw reads one CRLF line a byte at a time (so nothing beyond it is consumed).
func readLineRaw(r io.Reader) (string, error) {
	var b []byte
	var c [1]byte
	for len(b) < 1024 {
		if _, err := io.ReadFull(r, c[:]); err != nil {
			return string(b), err
		}
		b = append(b, c[0])
		if c[0] == '\n' {
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
	return "", errors.New("line too long")
}

func dialNFC(addr string, o clientOpts) (*nfcClient, error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	c := &nfcClient{raw: raw}
	if err := c.handshake(o); err != nil {
		raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

func (c *nfcClient) close() { c.raw.Close() }

func (c *nfcClient) handshake(o clientOpts) error {
	var err error
	if c.banner, err = readLineRaw(c.raw); err != nil { // §2.1 plaintext banner
		return err
	}
	if !strings.HasPrefix(c.banner, "220 ") {
		return fmt.Errorf("banner %q", c.banner)
	}
	pin := func(store *[]byte) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, VerifyConnection: func(cs tls.ConnectionState) error {
			der := cs.PeerCertificates[0].Raw
			*store = der
			s := sha1.Sum(der)
			if o.sha1 != "" && colonHex(s[:]) != o.sha1 {
				return fmt.Errorf("certificate SHA-1 %s, ticket says %s", colonHex(s[:]), o.sha1)
			}
			return nil
		}}
	}
	first := tls.Client(c.raw, pin(&c.peer)) // §2.2 TLS at once
	if err := first.Handshake(); err != nil {
		return err
	}
	send := func(line string) error { _, err := io.WriteString(first, line+"\r\n"); return err }
	if err := send("SESSION " + o.ticket); err != nil { // §2.3, no answer
		return err
	}
	if err := send("BANNER "); err != nil {
		return err
	}
	if line, err := readLineRaw(first); err != nil || line != c.banner {
		return fmt.Errorf("BANNER answered %q (%v)", line, err)
	}
	if o.sha2 && strings.Contains(c.banner, "SHA256 supported") {
		if err := send("THUMBPRINT_SHA2 PlainText"); err != nil {
			return err
		}
		line, err := readLineRaw(first)
		s := sha256.Sum256(c.peer)
		if err != nil || line != "200 "+colonHex(s[:]) {
			return fmt.Errorf("THUMBPRINT_SHA2 answered %q (%v)", line, err)
		}
	}
	svc := o.service
	if o.ssl {
		svc += "ssl"
	}
	if err := send("PROXY " + svc); err != nil {
		return err
	}
	line, err := readLineRaw(first)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "200 Connect ") {
		return &authdRefusal{line}
	}
	c.conn = c.raw // §2.4 nbd: raw TCP, no close_notify
	if o.ssl {
		second := tls.Client(c.raw, pin(&c.peer2))
		if err := second.Handshake(); err != nil {
			return err
		}
		c.conn = second
	}
	c.br = bufio.NewReader(c.conn)
	if o.noClassic {
		return nil
	}
	return c.classic()
}

// frame is a 264-byte classic frame (§3.1).
func frame(typ uint32, fields ...uint32) []byte {
	b := make([]byte, 264)
	le.PutUint32(b, typ)
	for i := 0; i+1 < len(fields); i += 2 {
		le.PutUint32(b[fields[i]:], fields[i+1])
	}
	return b
}

func (c *nfcClient) expectFrame(typ uint32) ([]byte, error) {
	b := make([]byte, 264)
	if _, err := io.ReadFull(c.br, b); err != nil {
		return nil, err
	}
	if got := le.Uint32(b); got != typ {
		return b, fmt.Errorf("classic frame %d, want %d", got, typ)
	}
	return b, nil
}

// classic: C43 C33 S36 C51 S51 C54+strings C55 C52 S52, each frame its own write (§3.1).
func (c *nfcClient) classic() error {
	hs := frame(43)
	copy(hs[4:], "PlainText")
	for _, step := range []struct {
		out    [][]byte
		expect uint32
	}{
		{[][]byte{hs, frame(33)}, 36},
		{[][]byte{frame(51, 4, 11)}, 51},
		{[][]byte{frame(54, 4, 4, 8, 7), []byte("vddk"), []byte("nbdmode"), frame(55, 4, 3), frame(52)}, 52},
	} {
		for _, b := range step.out {
			if _, err := c.conn.Write(b); err != nil {
				return err
			}
		}
		f, err := c.expectFrame(step.expect)
		if err != nil {
			return err
		}
		if step.expect == 36 && le.Uint32(f[16:]) != 1 {
			return errors.New("params reply without u32 1 @16")
		}
	}
	return nil
}

// msg is one AIO message.
type msg struct {
	typ, op        uint32
	payload, extra []byte
}

// sendMsg writes one AIO message under opId op (§3.2 header, payload, extra).
func (c *nfcClient) sendMsg(typ, op uint32, payload, extra []byte) error {
	b := make([]byte, 16, 16+len(payload)+len(extra))
	le.PutUint32(b[0:], 0xA100DA7A)
	le.PutUint32(b[4:], typ)
	le.PutUint32(b[8:], uint32(len(payload)))
	le.PutUint32(b[12:], op)
	b = append(append(b, payload...), extra...)
	if c.pending != nil {
		c.pending.Write(b)
		return nil
	}
	_, err := c.conn.Write(b)
	return err
}

// request sends a request under the next opId and returns that opId.
func (c *nfcClient) request(typ uint32, payload, extra []byte) (uint32, error) {
	op := c.op
	c.op++
	return op, c.sendMsg(typ, op, payload, extra)
}

// recvMsg reads one reply; bitmap is the extra length of a type-13 reply (the client knows it
// from its request).
func (c *nfcClient) recvMsg(bitmap int) (msg, error) {
	var m msg
	h := make([]byte, 16)
	if _, err := io.ReadFull(c.br, h); err != nil {
		return m, err
	}
	if le.Uint32(h) != 0xA100DA7A {
		return m, fmt.Errorf("bad magic %x", h[:4])
	}
	m.typ, m.op = le.Uint32(h[4:]), le.Uint32(h[12:])
	size := le.Uint32(h[8:])
	if size > 1<<20 {
		return m, fmt.Errorf("reply size %d", size)
	}
	m.payload = make([]byte, size)
	if _, err := io.ReadFull(c.br, m.payload); err != nil {
		return m, err
	}
	extra := 0
	switch {
	case m.typ == 1 && size >= 12:
		extra = int(le.Uint32(m.payload[8:]))
	case m.typ == 7 && size == 44 && le.Uint32(m.payload[8:]) == 1:
		extra = int(le.Uint32(m.payload[36:]))
	case m.typ == 11 && size == 16:
		extra = int(le.Uint32(m.payload[12:]))
	case m.typ == 13:
		extra = bitmap
	}
	if extra > 4<<20 {
		return m, fmt.Errorf("extra %d", extra)
	}
	m.extra = make([]byte, extra)
	_, err := io.ReadFull(c.br, m.extra)
	return m, err
}

// asError turns an ERROR reply into an *nfcError.
func asError(m msg) error {
	if m.typ != 1 {
		return nil
	}
	e := &nfcError{op: m.op}
	if len(m.payload) >= 4 {
		e.code = le.Uint32(m.payload)
	}
	e.text = string(m.extra)
	return e
}

// call sends one request and reads its single reply.
func (c *nfcClient) call(typ uint32, payload, extra []byte, bitmap int) (msg, error) {
	op, err := c.request(typ, payload, extra)
	if err != nil {
		return msg{}, err
	}
	m, err := c.recvMsg(bitmap)
	if err != nil {
		return m, err
	}
	if m.op != op {
		return m, fmt.Errorf("reply to opId %d, want %d", m.op, op)
	}
	if err := asError(m); err != nil {
		return m, err
	}
	if m.typ != typ {
		return m, fmt.Errorf("reply type %d, want %d", m.typ, typ)
	}
	return m, nil
}

func u32s(size int, fields ...uint64) []byte {
	b := make([]byte, size)
	for i := 0; i+1 < len(fields); i += 2 {
		le.PutUint32(b[fields[i]:], uint32(fields[i+1]))
	}
	return b
}

// openSession: OPEN_SESSION, SET_SOCK_OPTS, SET_RES_POOL (§3.2 Open).
func (c *nfcClient) openSession(buf int) error {
	if _, err := c.call(2, u32s(16, 4, uint64(buf), 8, 1), nil, 0); err != nil {
		return err
	}
	m, err := c.call(9, make([]byte, 12), nil, 0)
	if err != nil {
		return err
	}
	if le.Uint32(m.payload) != 1675000 || le.Uint32(m.payload[8:]) != 1 {
		return fmt.Errorf("SET_SOCK_OPTS reply % x", m.payload)
	}
	_, err = c.call(22, u32s(4, 0, 1), nil, 0)
	return err
}

// openFile returns the handle and the OPEN_FILE reply.
func (c *nfcClient) openFile(path string, write bool) (uint64, []byte, error) {
	flags := uint64(0x1e)
	if write {
		flags = 0x1a
	}
	m, err := c.call(4, u32s(60, 0, uint64(len(path)), 16, 2, 20, flags), []byte(path), 0)
	if err != nil {
		return 0, nil, err
	}
	return le.Uint64(m.payload[8:]), m.payload, nil
}

func ioPayload(handle uint64, dir, comp uint32, off uint64, total, fragOff, fragLen, wire uint32) []byte {
	p := make([]byte, 44)
	le.PutUint64(p, handle)
	le.PutUint64(p[8:], uint64(dir)|uint64(comp)<<32)
	le.PutUint64(p[16:], off)
	le.PutUint32(p[24:], total)
	le.PutUint32(p[28:], fragOff)
	le.PutUint32(p[32:], fragLen)
	le.PutUint32(p[36:], wire)
	return p
}

// sendRead sends one read request (§3.2 IO Read) and returns its opId.
func (c *nfcClient) sendRead(handle, off uint64, n int, comp uint32) (uint32, error) {
	return c.request(7, ioPayload(handle, 1, comp, off, uint32(n), 0, uint32(n), uint32(n)), nil)
}

// readFragments collects the fragments of one read whose first reply is m, placing each at @28
// until the @32 lengths reach the total; order lists the fragment offsets as they came.
func (c *nfcClient) readFragments(m msg, n int) (data []byte, order []uint32, err error) {
	data = make([]byte, n)
	got := 0
	for {
		if e := asError(m); e != nil {
			return nil, order, e
		}
		fo, fl := le.Uint32(m.payload[28:]), le.Uint32(m.payload[32:])
		comp := uint32(le.Uint64(m.payload[8:]) >> 32)
		plain, err := decompress(comp, m.extra, int(fl))
		if err != nil {
			return nil, order, err
		}
		copy(data[fo:], plain)
		order = append(order, fo)
		if got += int(fl); got >= n {
			return data, order, nil
		}
		if m, err = c.recvMsg(0); err != nil {
			return nil, order, err
		}
	}
}

func (c *nfcClient) read(handle, off uint64, n int, comp uint32) ([]byte, error) {
	op, err := c.sendRead(handle, off, n, comp)
	if err != nil {
		return nil, err
	}
	m, err := c.recvMsg(0)
	if err != nil {
		return nil, err
	}
	if m.op != op {
		return nil, fmt.Errorf("reply to opId %d, want %d", m.op, op)
	}
	data, _, err := c.readFragments(m, n)
	return data, err
}

// sendWrite sends one write as fragments of at most buf bytes, each compressed with comp when
// that shrinks it (§3.2 IO Write, Compression); it returns the opId.
func (c *nfcClient) sendWrite(handle, off uint64, data []byte, buf int, comp uint32) (uint32, error) {
	op := c.op
	c.op++
	for pos := 0; pos < len(data); pos += buf {
		end := pos + buf
		if end > len(data) {
			end = len(data)
		}
		wire, kind := compress(comp, data[pos:end])
		p := ioPayload(handle, 0, kind, off, uint32(len(data)), uint32(pos), uint32(end-pos), uint32(len(wire)))
		if err := c.sendMsg(7, op, p, wire); err != nil {
			return op, err
		}
	}
	return op, nil
}

func (c *nfcClient) write(handle, off uint64, data []byte, buf int, comp uint32) error {
	op, err := c.sendWrite(handle, off, data, buf, comp)
	if err != nil {
		return err
	}
	m, err := c.recvMsg(0)
	if err != nil {
		return err
	}
	if m.op != op {
		return fmt.Errorf("reply to opId %d, want %d", m.op, op)
	}
	if err := asError(m); err != nil {
		return err
	}
	if m.typ != 7 || len(m.payload) != 44 || len(m.extra) != 0 {
		return fmt.Errorf("write reply type %d, %d bytes", m.typ, len(m.payload))
	}
	return nil
}

func (c *nfcClient) ddb(handle uint64, key string) (string, error) {
	p := make([]byte, 16)
	le.PutUint64(p, handle)
	le.PutUint32(p[8:], uint32(len(key)))
	m, err := c.call(11, p, []byte(key), 0)
	return string(m.extra), err
}

// allocated asks for count chunks from start (§3.2 type 13) and returns the bitmap.
func (c *nfcClient) allocated(handle, chunk, start, count uint64) ([]byte, error) {
	p := make([]byte, 48)
	le.PutUint64(p, handle)
	le.PutUint64(p[16:], chunk)
	le.PutUint64(p[24:], start)
	le.PutUint64(p[32:], count)
	n := int((count+7)/8+3) &^ 3
	m, err := c.call(13, p, nil, n)
	return m.extra, err
}

// shutdown: CLOSE_FILE, CLOSE_SESSION, classic type 4 (§3.2 Close); the server then closes.
func (c *nfcClient) shutdown(handle uint64) error {
	p := make([]byte, 8)
	le.PutUint64(p, handle)
	if _, err := c.call(5, p, nil, 0); err != nil {
		return err
	}
	if _, err := c.call(3, make([]byte, 4), nil, 0); err != nil {
		return err
	}
	if _, err := c.conn.Write(frame(4)); err != nil {
		return err
	}
	_ = c.raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.br.ReadByte(); err != io.EOF {
		return fmt.Errorf("after SESSION_COMPLETE: %v, want EOF", err)
	}
	return nil
}
