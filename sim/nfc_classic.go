// Concept: the classic phase of an NFC session (reference/nfc.md §3.1): fixed 264-byte frames in
// the order C43 C33 S36 C51 S51 C54+strings C55 C52 S52, every field checked, each frame and
// string read as its own unit (its own TLS record under nbdssl with --nfc-coalesced refuse). Any
// deviation is refused with SESSION_COMPLETE (type 4, "S to refuse") and the connection closes.

package main

import (
	"bytes"
	"fmt"
	"net"
)

const (
	maxConnectionString  = 256
	classicHandshakeText = "PlainText" // nfc.md §3.1: ASCII @4 of type 43
	classicFeaturesValue = 3           // nfc.md §3.1: u32 3 @4 of type 55
	minAIOVersion        = 3           // nfc.md §3.1: AIO needs >= 3
)

// classic runs the classic phase up to AIO_SESSION_OPEN's reply. It returns an error once the
// connection must close (after sending SESSION_COMPLETE where it could).
func (h *nfcHub) classic(conn net.Conn, r *wireReader) error {
	refuse := func(format string, args ...interface{}) error {
		_, _ = conn.Write(classicFrame(classicSessionComplete, nil))
		return fmt.Errorf(format, args...)
	}
	send := func(typ uint32, fields map[int]uint32) error {
		_, err := conn.Write(classicFrame(typ, fields))
		return err
	}
	next := func(want uint32) ([]byte, error) {
		f, err := r.unit(classicFrameSize)
		if err != nil {
			return nil, err
		}
		if got := get32(f, 0); got != want {
			return nil, refuse("classic frame type %d where %d was due", got, want)
		}
		return f, nil
	}
	prof := h.esxi()

	f, err := r.unit(classicFrameSize)
	if err != nil {
		return err
	}
	if get32(f, 0) == classicHandshake {
		text := 4 + len(classicHandshakeText)
		if !prof.handshake43() {
			return refuse("HANDSHAKE (43) on a lib %d host", prof.libVersion)
		}
		if !bytes.Equal(f[4:text], []byte(classicHandshakeText)) || !zeroExcept(f, 0, text) {
			return refuse("HANDSHAKE (43) without %q @4 and zero padding", classicHandshakeText)
		}
		if f, err = next(classicSessionParams); err != nil {
			return err
		}
	} else if get32(f, 0) != classicSessionParams {
		return refuse("classic frame type %d where 43 or 33 was due", get32(f, 0))
	}
	if !zeroExcept(f, 0, 4) {
		return refuse("SESSION_PARAMS (33) is not zeros")
	}
	if err := send(classicParamsReply, map[int]uint32{16: 1}); err != nil {
		return err
	}

	if f, err = next(classicVersion); err != nil {
		return err
	}
	clientVersion := get32(f, 4)
	if !zeroExcept(f, 0, 8) {
		return refuse("VERSION (51) has bytes beyond @4")
	}
	if err := send(classicVersion, map[int]uint32{4: uint32(prof.libVersion)}); err != nil {
		return err
	}

	if f, err = next(classicConnectionData); err != nil {
		return err
	}
	lens := []uint32{get32(f, 4), get32(f, 8)}
	if !zeroExcept(f, 0, 12) {
		return refuse("CONNECTION_DATA (54) has bytes beyond @8")
	}
	for _, n := range lens {
		if n == 0 || n > maxConnectionString {
			return refuse("CONNECTION_DATA string length %d (1..%d)", n, maxConnectionString)
		}
		s, err := r.unit(int(n))
		if err != nil {
			return err
		}
		for _, c := range s {
			if c < 0x20 || c > 0x7e {
				return refuse("CONNECTION_DATA string is not printable ASCII")
			}
		}
	}

	if f, err = next(classicFeatures); err != nil {
		return err
	}
	if get32(f, 4) != classicFeaturesValue || !zeroExcept(f, 0, 8) {
		return refuse("FEATURES (55) is not u32 %d @4", classicFeaturesValue)
	}

	if f, err = next(classicAIOOpen); err != nil {
		return err
	}
	if !zeroExcept(f, 0, 4) {
		return refuse("AIO_SESSION_OPEN (52) is not zeros")
	}
	if !prof.aio() || clientVersion < minAIOVersion {
		return refuse("AIO needs version >= %d (client %d, server %d)", minAIOVersion, clientVersion, prof.libVersion)
	}
	return send(classicAIOOpen, nil)
}
