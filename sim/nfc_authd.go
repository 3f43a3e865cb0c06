// Concept: the authd handshake on a host's NFC port (reference/nfc.md §2): the plaintext 220
// banner, TLS at once with the host's certificate, the CRLF commands of the §2.3 table with the
// ticket redeemed by SESSION, and after "200 Connect" the switch of transport — raw TCP on the same
// socket for nbd, a second TLS handshake for nbdssl (§2.4). Then the classic and AIO phases run
// on the new transport.
//
// Where nfc.md gives no reply the simulator's choices are constants here: an unknown, stale or
// used ticket is not answered at SESSION (the sheet: SESSION gets nothing) but refused at PROXY
// with authdNotLoggedIn, the line the sheet records for commands that need a login; a PROXY
// naming a service other than the ticket's (with or without "ssl") gets the same line; any other
// command gets authdUnknown.

package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

const (
	// nfc.md §2.1: the banner; "SHA256 supported" only on ESXi 8.
	authdBanner       = "220 VMware Authentication Daemon Version 1.10: SSL Required, NFCSSL supported/t"
	authdBannerSHA256 = ", SHA256 supported"
	// nfc.md §2.3 Other replies.
	authdInvalidArgs   = "501 Invalid arguments"
	authdLoginFailed   = "530 Login incorrect"
	authdNotLoggedIn   = "530 Please login with USER and PASS"
	authdUnknown       = "500 Unknown command" // invented: nfc.md records no reply to unknown commands
	authdConnectNBD    = "200 Connect ha-nfc"  // nfc.md §2.3 PROXY vpxa-nfc / nfc
	authdConnectPrefix = "200 Connect "

	handshakeTimeout = 60 * time.Second // each phase before AIO must finish within this
	maxAuthdLine     = 512
	maxAuthdLines    = 16
	maxTLSRecord     = 16 << 10 // plaintext bytes of one TLS record
)

// serveConn runs one NFC connection to its end; the caller closes conn.
func (h *nfcHub) serveConn(host *nfcHost, raw net.Conn) {
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	banner := h.banner()
	if _, err := io.WriteString(raw, banner+"\r\n"); err != nil {
		return
	}
	// nfc.md §2.2: the client starts TLS at once; anything else fails the handshake and closes.
	first := tls.Server(raw, host.first)
	if err := first.Handshake(); err != nil {
		verbose.Printf("NFC %s: first TLS handshake: %v", host.ref.Name, err)
		return
	}
	tk, ssl, err := h.authd(host, first, newWireReader(first, !h.pol.coalesced), banner)
	if err != nil {
		verbose.Printf("NFC %s: authd: %v", host.ref.Name, err)
		return
	}
	h.stats.nfc(func(v *nfcStatsView) { v.Proxied++ })

	// nfc.md §2.4: nbd drops the TLS state (no close_notify) and goes on in raw TCP; nbdssl starts
	// a new TLS handshake on the same socket.
	var nfc net.Conn = raw
	if ssl {
		second := tls.Server(raw, host.second)
		if err := second.Handshake(); err != nil {
			verbose.Printf("NFC %s: second TLS handshake: %v", host.ref.Name, err)
			return
		}
		nfc = second
	}
	r := newWireReader(nfc, ssl && !h.pol.coalesced)
	if err := h.classic(nfc, r); err != nil {
		verbose.Printf("NFC %s: classic phase: %v", host.ref.Name, err)
		return
	}
	_ = raw.SetDeadline(time.Time{})
	a := newAIOConn(h, tk, nfc)
	defer a.closeFiles()
	if err := a.serve(r.stream()); err != nil {
		verbose.Printf("NFC %s: AIO: %v", host.ref.Name, err)
	}
}

func (h *nfcHub) banner() string {
	if h.esxi().sha256 {
		return authdBanner + authdBannerSHA256
	}
	return authdBanner
}

// authd answers the command lines of nfc.md §2.3 until PROXY. It returns the redeemed ticket and
// whether the client asked for nbdssl, or an error once the connection must close.
func (h *nfcHub) authd(host *nfcHost, conn net.Conn, r *wireReader, banner string) (nfcTicket, bool, error) {
	var tk nfcTicket
	refusal := "no SESSION line"
	reply := func(line string) error {
		_, err := io.WriteString(conn, line+"\r\n")
		return err
	}
	for i := 0; i < maxAuthdLines; i++ {
		line, err := r.line()
		if err != nil {
			return tk, false, err
		}
		cmd, arg, _ := strings.Cut(line, " ")
		var answer string
		switch {
		case (cmd == "SESSION" || cmd == "PROXY") && strings.Contains(arg, ":"):
			answer = authdInvalidArgs
		case cmd == "SESSION":
			tk, refusal = h.tickets.redeem(arg, host.ref.Moref) // nfc.md §2.3: no answer
			continue
		case line == "BANNER ": // with its trailing space, nfc.md §2.3
			answer = banner
		case cmd == "THUMBPRINT_SHA2" && arg != "PlainText":
			answer = authdInvalidArgs
		case cmd == "THUMBPRINT_SHA2" && !h.esxi().sha256:
			answer = authdNotLoggedIn // nfc.md §2.3: pre-8 hosts
		case cmd == "THUMBPRINT_SHA2":
			answer = "200 " + host.sha256
		case cmd == "PROXY":
			ssl, endpoint, ok := h.proxy(tk, arg)
			if refusal != "" || !ok {
				if refusal == "" {
					refusal = fmt.Sprintf("PROXY %q does not match the ticket's service %q", arg, tk.service)
				}
				_ = reply(authdNotLoggedIn)
				return tk, false, errors.New(refusal)
			}
			if err := reply(authdConnectPrefix + endpoint); err != nil {
				return tk, false, err
			}
			if r.buffered() > 0 {
				return tk, false, errors.New("data after PROXY inside the first TLS session")
			}
			return tk, ssl, nil
		case cmd == "USER" || cmd == "PASS":
			answer = authdLoginFailed
		case cmd == "SESSIONID" || cmd == "CONNECT_VPXA":
			answer = authdNotLoggedIn
		default:
			answer = authdUnknown
		}
		if err := reply(answer); err != nil {
			return tk, false, err
		}
	}
	return tk, false, fmt.Errorf("more than %d command lines without PROXY", maxAuthdLines)
}

// proxy checks PROXY's service against the ticket (nfc.md §2.3: the ticket's service for nbd,
// with "ssl" appended for nbdssl) and names the endpoint of the "200 Connect" reply.
func (h *nfcHub) proxy(tk nfcTicket, svc string) (ssl bool, endpoint string, ok bool) {
	switch {
	case tk.service != "" && svc == tk.service:
		return false, authdConnectNBD[len(authdConnectPrefix):], true
	case tk.service != "" && svc == tk.service+"ssl":
		if h.esx {
			return true, h.pol.esxSSLEndpoint, true // nfc.md §2.3: the ESXi reply was not recorded
		}
		return true, "ha-nfcssl", true
	}
	return false, "", false
}

// wireReader reads CRLF lines and fixed-size units (classic frames, the CONNECTION_DATA strings).
// With records set (§5.8 "refuse", on TLS) every line or unit must be exactly one TLS record: a Go
// tls.Conn Read never returns more than one record, so one Read per unit tells them apart.
// Otherwise the input is a byte stream.
type wireReader struct {
	conn    net.Conn
	records bool
	br      *bufio.Reader
}

func newWireReader(conn net.Conn, records bool) *wireReader {
	r := &wireReader{conn: conn, records: records}
	if !records {
		r.br = bufio.NewReaderSize(conn, 64<<10)
	}
	return r
}

// record reads one TLS record's plaintext.
func (r *wireReader) record() ([]byte, error) {
	buf := make([]byte, maxTLSRecord+1)
	n, err := r.conn.Read(buf)
	if n == 0 && err == nil {
		err = io.ErrNoProgress
	}
	return buf[:n], err
}

// line returns one CRLF-terminated line without its CRLF; longer than maxAuthdLine, a bare LF or
// (in record mode) anything else in the same record is an error.
func (r *wireReader) line() (string, error) {
	var b []byte
	var err error
	if r.records {
		if b, err = r.record(); err != nil {
			return "", err
		}
		if bytes.IndexByte(b, '\n') != len(b)-1 {
			return "", fmt.Errorf("a TLS record holds %d bytes that are not exactly one line (--nfc-coalesced refuse)", len(b))
		}
	} else if b, err = r.br.ReadSlice('\n'); err != nil {
		return "", fmt.Errorf("reading a command line: %v", err)
	}
	if len(b) > maxAuthdLine || len(b) < 2 || b[len(b)-2] != '\r' {
		return "", fmt.Errorf("bad command line (%d bytes, CRLF required)", len(b))
	}
	return string(b[:len(b)-2]), nil
}

// unit reads exactly n bytes (in record mode: one record of exactly n bytes).
func (r *wireReader) unit(n int) ([]byte, error) {
	if !r.records {
		b := make([]byte, n)
		_, err := io.ReadFull(r.br, b)
		return b, err
	}
	b, err := r.record()
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, fmt.Errorf("a TLS record holds %d bytes, want one %d-byte unit (--nfc-coalesced refuse)", len(b), n)
	}
	return b, nil
}

// buffered is the number of bytes read from the connection but not yet consumed.
func (r *wireReader) buffered() int {
	if r.br == nil {
		return 0
	}
	return r.br.Buffered()
}

// stream returns a buffered reader over the rest of the input (for AIO, read as a byte stream).
func (r *wireReader) stream() *bufio.Reader {
	if r.br == nil {
		r.br = bufio.NewReaderSize(r.conn, 64<<10)
	}
	return r.br
}
