// Concept: the simulator's own NFC serving rate (GET /nfc/readrate): the reference client of
// nfc_client.go reads a disk whole through the simulator's NFC responder over loopback, the way a
// lean client would. /disk/readrate is the page cache alone, no socket; this is what an NFC client
// can reach on this machine when it costs nothing beyond the socket, TLS and the framing, so it is
// the fair ceiling for an NFC client's figures (bench/remote_nfc.c).

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// readInto reads len(dst) bytes at off with one uncompressed IO read and places each fragment's
// data straight into dst at its @28, allocating nothing (§3.2 IO Read). Any other reply, an ERROR
// included, is reported as unexpected: the caller only measures.
func (c *nfcClient) readInto(handle, off uint64, dst []byte) error {
	op, err := c.sendRead(handle, off, len(dst), 0)
	if err != nil {
		return err
	}
	var h [16]byte
	var p [44]byte
	for got := 0; got < len(dst); {
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return err
		}
		typ, size, rop := le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:])
		if le.Uint32(h[:]) != 0xA100DA7A || typ != 7 || size != 44 || rop != op {
			return fmt.Errorf("reply of type %d, %d bytes, opId %d: want a read fragment of opId %d", typ, size, rop, op)
		}
		if _, err := io.ReadFull(c.br, p[:]); err != nil {
			return err
		}
		fo, fl, wire := le.Uint32(p[28:]), le.Uint32(p[32:]), le.Uint32(p[36:])
		if le.Uint64(p[8:]) != 1 || wire != fl || fl == 0 || uint64(fo)+uint64(fl) > uint64(len(dst)) {
			return fmt.Errorf("read fragment @8=%#x at %d, %d bytes (%d on the wire) of %d", le.Uint64(p[8:]), fo, fl, wire, len(dst))
		}
		if _, err := io.ReadFull(c.br, dst[fo:fo+fl]); err != nil {
			return err
		}
		got += int(fl)
	}
	return nil
}

// nfcReadRate answers GET /nfc/readrate?vm=&disk=&snapshot=&ssl=: a ticket as NfcGetVmFiles issues
// it, the handshake of nbdssl (ssl=1, the default) or nbd (ssl=0) to the VM's host, a 1 MiB session
// buffer, then the disk in 1 MiB reads, one at a time, into one reused buffer; how long the reads
// took. Bounded by a 10-minute deadline.
func (a *admin) nfcReadRate(r *http.Request) (interface{}, int, error) {
	if a.nfc == nil {
		return nil, http.StatusNotFound, errors.New("this simulator serves no NFC")
	}
	q := r.URL.Query()
	key, err := strconv.ParseInt(q.Get("disk"), 10, 32)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("bad disk %q", q.Get("disk"))
	}
	ssl := q.Get("ssl") != "0"
	vm := q.Get("vm")
	file, err := a.diskOf(vm, int32(key), q.Get("snapshot"))
	if err != nil {
		return nil, status(err), err
	}
	d, err := a.store.openLogical(file, false)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	size := d.Size()
	d.Close()
	host, ok := a.nfc.vms.vmHost(vm)
	nh := a.nfc.byMoref[host]
	if !ok || nh == nil {
		return nil, http.StatusNotFound, fmt.Errorf("%s runs on no NFC host", vm)
	}
	service := serviceVC
	if a.nfc.esx {
		service = serviceESX
	}
	tk, err := a.nfc.tickets.issue(ticketVMFiles, vm, 0, host, service)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	c, err := dialNFC(net.JoinHostPort("127.0.0.1", strconv.Itoa(nh.port)),
		clientOpts{ticket: tk.id, service: tk.service, ssl: ssl, sha1: nh.sha1, sha2: true})
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	defer c.close()
	_ = c.raw.SetDeadline(time.Now().Add(10 * time.Minute))
	const chunk = 1 << 20
	if err := c.openSession(chunk); err != nil {
		return nil, http.StatusInternalServerError, err
	}
	h, _, err := c.openFile(file, false)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	buf := make([]byte, chunk)
	began := time.Now()
	for off := int64(0); off < size; off += chunk {
		if err := c.readInto(h, uint64(off), buf[:minInt64(chunk, size-off)]); err != nil {
			return nil, http.StatusInternalServerError, fmt.Errorf("read at %d: %v", off, err)
		}
	}
	secs := time.Since(began).Seconds()
	if err := c.shutdown(h); err != nil {
		return nil, http.StatusInternalServerError, fmt.Errorf("closing: %v", err)
	}
	transport := "nbd"
	if ssl {
		transport = "nbdssl"
	}
	return map[string]interface{}{"file": file, "transport": transport, "bytes": size, "chunk": chunk,
		"seconds": secs, "bytes_per_second": float64(size) / secs}, http.StatusOK, nil
}
