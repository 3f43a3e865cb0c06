// Concept: the NFC wire vocabulary (reference/nfc.md §3) — classic 264-byte frames, the 16-byte
// AIO header, message types with their payload sizes and where each carries the length of its
// extra, little-endian field access, and the ERROR message. The ERROR payload and its code table
// are unknown (nfc.md §5.1); the simulator's choice lives here and only here.

package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Classic phase (nfc.md §3.1 Classic phase): fixed frames, u32 type at 0, zero padding.
const (
	classicFrameSize = 264

	classicSessionComplete = 4  // C at close; S to refuse
	classicSessionParams   = 33 // C, zeros
	classicParamsReply     = 36 // S, u32 1 @16
	classicHandshake       = 43 // C, "PlainText" @4
	classicVersion         = 51 // C then S, u32 @4
	classicAIOOpen         = 52 // C then S, zeros
	classicConnectionData  = 54 // C, u32 len @4, u32 len @8, then the raw strings
	classicFeatures        = 55 // C, u32 3 @4
)

// AIO framing (nfc.md §3.2 AIO framing): magic, type, size, opId; payload; optional extra.
const (
	aioMagic      uint32 = 0xA100DA7A
	aioHeaderSize        = 16

	aioError        = 1
	aioOpenSession  = 2
	aioCloseSession = 3
	aioOpenFile     = 4
	aioCloseFile    = 5
	aioIO           = 7
	aioSetSockOpts  = 9
	aioGetFileInfo  = 10
	aioDDBGet       = 11
	aioAllocated    = 13
	aioSetResPool   = 22
)

// aioRequestSize is each request's payload size (nfc.md §3.2 table). GET_FILE_INFO's layout is
// unknown (§5.3): any payload up to maxFileInfoPayload is read, and answered with an ERROR.
var aioRequestSize = map[uint32]int{
	aioOpenSession:  16,
	aioCloseSession: 4,
	aioOpenFile:     60,
	aioCloseFile:    8,
	aioIO:           44,
	aioSetSockOpts:  12,
	aioDDBGet:       16,
	aioAllocated:    48,
	aioSetResPool:   4,
}

const maxFileInfoPayload = 256

var aioTypeName = map[uint32]string{
	aioError: "ERROR", aioOpenSession: "OPEN_SESSION", aioCloseSession: "CLOSE_SESSION",
	aioOpenFile: "OPEN_FILE", aioCloseFile: "CLOSE_FILE", aioIO: "IO", aioSetSockOpts: "SET_SOCK_OPTS",
	aioGetFileInfo: "GET_FILE_INFO", aioDDBGet: "DDB_GET", aioAllocated: "ALLOCATED_BLOCKS",
	aioSetResPool: "SET_RES_POOL",
}

// Limits on what the wire may ask for (each checked where the field is read).
const (
	maxPathLength   = 4096     // OPEN_FILE extra
	maxDDBKeyLength = 256      // DDB_GET extra
	minAIOBuffer    = 64 << 10 // OPEN_SESSION @4: ESXi 8 accepted 64 KiB–2 MiB (nfc.md §3.2 OPEN_SESSION)
	maxAIOBuffer    = 2 << 20
	sectorSize      = 512 // OPEN_FILE reply @36 (nfc.md §3.2: 512)
)

// IO @8: low 32 bits direction, high 32 bits compression (nfc.md §3.2 IO request).
const (
	ioWrite = 0
	ioRead  = 1
)

// ERROR codes, and the ERROR payload. nfc.md §5.1: the payload and the code table are unknown.
//
// ASSUMPTION (the one place it is decided): with --nfc-error-payload text (default) an ERROR is
// header type 1 with the request's opId (nfc.md §3.2 "Replies echo … type 1 = ERROR comes
// instead"), size 12, payload u32 code @0, u32 0 @4, u32 text length @8, then the text (ASCII) as
// an extra not counted in size, like every other extra (§3.2). With --nfc-error-payload empty the
// size is 0 and nothing follows. The codes:
const (
	nfcErrBadRequest uint32 = 0x01 // invented: a field the sheet fixes has another value; misaligned allocation query; bad sequence
	nfcErrNotFound   uint32 = 0x04 // invented: OPEN_FILE names no disk
	nfcErrNoMemory   uint32 = 0x05 // nfc.md §3.2 Errors: VDDK logged "NFC error 5 … Failed to allocate"; oversized OPEN_SESSION or IO
	nfcErrReadOnly   uint32 = 0x0b // nfc.md §1 Read-write: writable flags on a read-only ticket; also a write on a read-only open
	nfcErrPermission uint32 = 0x0e // invented: lock or ticket refusal at open; text starts "NfcFssrvrOpen" (nfc.md §3.2 Errors)
)

const maxErrorText = 512

// aioErrorFrame encodes one ERROR message answering opID.
func aioErrorFrame(pol *nfcPolicy, opID, code uint32, text string) []byte {
	if !pol.errorText {
		return aioFrame(aioError, opID, nil, nil)
	}
	if len(text) > maxErrorText {
		text = text[:maxErrorText]
	}
	p := make([]byte, 12)
	put32(p, 0, code)
	put32(p, 8, uint32(len(text)))
	return aioFrame(aioError, opID, p, []byte(text))
}

// aioFrame encodes a header, its payload and an extra into one buffer.
func aioFrame(typ, opID uint32, payload, extra []byte) []byte {
	b := make([]byte, aioHeaderSize+len(payload)+len(extra))
	put32(b, 0, aioMagic)
	put32(b, 4, typ)
	put32(b, 8, uint32(len(payload)))
	put32(b, 12, opID)
	copy(b[aioHeaderSize:], payload)
	copy(b[aioHeaderSize+len(payload):], extra)
	return b
}

// classicFrame encodes a 264-byte classic frame of type typ with u32 fields at the given offsets.
func classicFrame(typ uint32, fields map[int]uint32) []byte {
	b := make([]byte, classicFrameSize)
	put32(b, 0, typ)
	for off, v := range fields {
		put32(b, off, v)
	}
	return b
}

func get32(b []byte, off int) uint32    { return binary.LittleEndian.Uint32(b[off:]) }
func get64(b []byte, off int) uint64    { return binary.LittleEndian.Uint64(b[off:]) }
func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// zeroExcept reports whether b is zero outside the byte ranges [from, to) given in pairs.
func zeroExcept(b []byte, ranges ...int) bool {
	for i, c := range b {
		if c == 0 {
			continue
		}
		inside := false
		for r := 0; r+1 < len(ranges); r += 2 {
			if i >= ranges[r] && i < ranges[r+1] {
				inside = true
			}
		}
		if !inside {
			return false
		}
	}
	return true
}

// unknownFill fills b (bytes whose meaning nfc.md does not give) according to --nfc-unknown-bytes.
func unknownFill(pol *nfcPolicy, b []byte) {
	if !pol.unknownNoise {
		for i := range b {
			b[i] = 0
		}
		return
	}
	if _, err := rand.Read(b); err != nil {
		for i := range b {
			b[i] = 0xA5
		}
	}
}

// typeName names an AIO type for counters and messages.
func typeName(typ uint32) string {
	if n, ok := aioTypeName[typ]; ok {
		return n
	}
	return fmt.Sprintf("type_%d", typ)
}
