// Concept: the compressions of NFC IO fragments (reference/nfc.md §3.2 IO: "0 none, 1 zlib,
// 2 FastLZ, 3 SkipZ"). zlib is a standard stream (Go's compress/zlib); FastLZ is raw blocks,
// decoded and encoded here from FastLZ's public block format description (the project README's
// "Block Format" section); SkipZ is "u32 total, u32 0, then (u32 off, u32 len, bytes) for each
// non-zero run". Decoders produce exactly the fragment's uncompressed length or fail; encoders
// give up (type 0) when the result does not shrink, as the sheet says a client does.

package main

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

const (
	compNone   = 0
	compZlib   = 1
	compFastLZ = 2
	compSkipZ  = 3
)

// decompress decodes in (compression kind) into exactly n bytes.
func decompress(kind uint32, in []byte, n int) ([]byte, error) {
	switch kind {
	case compNone:
		if len(in) != n {
			return nil, fmt.Errorf("uncompressed fragment has %d bytes on the wire, %d announced", len(in), n)
		}
		return in, nil
	case compZlib:
		return zlibDecode(in, n)
	case compFastLZ:
		return fastlzDecode(in, n)
	case compSkipZ:
		return skipzDecode(in, n)
	}
	return nil, fmt.Errorf("unknown compression type %d", kind)
}

// compress encodes in with kind; when that does not shrink it, in goes as type 0 (nfc.md §3.2
// Compression: "A fragment that does not shrink goes as type 0").
func compress(kind uint32, in []byte) ([]byte, uint32) {
	var out []byte
	switch kind {
	case compZlib:
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		if _, err := w.Write(in); err == nil && w.Close() == nil {
			out = b.Bytes()
		}
	case compFastLZ:
		out = fastlzEncode(in)
	case compSkipZ:
		out = skipzEncode(in)
	}
	if out == nil || len(out) >= len(in) {
		return in, compNone
	}
	return out, kind
}

func zlibDecode(in []byte, n int) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("zlib: %v", err)
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("zlib: %v", err)
	}
	// Reading on to the end checks the stream's checksum and that it holds no more than n bytes.
	var extra [1]byte
	if k, err := r.Read(extra[:]); k != 0 || !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("zlib: stream longer than %d bytes or corrupt (%v)", n, err)
	}
	return out, nil
}

// FastLZ block format (README "Block Format"): the top 3 bits of the first byte are the block
// tag (0 = level 1, 1 = level 2); the first instruction is always a literal run.
//
// Level 1 instructions (opcode byte op):
//   - literal run  op>>5 == 0: (op&31)+1 literal bytes follow;
//   - short match  op>>5 in 1..6: length (op>>5)+2, one more byte r; back reference R = (op&31)<<8 | r;
//   - long match   op>>5 == 7: then byte m and byte r; length m+9, R as above.
//
// R is a back reference: 0 is the last byte written, so the copy starts R+1 bytes back.
//
// Level 2 (the README's level-2 section is unwritten; this is the reading of FastLZ's level 2
// used here, checked against hand-made blocks in the tests): as level 1, except that a long
// match's length is 9 plus the sum of length bytes that follow op, continuing while a byte is 255,
// and that when op&31 == 31 and r == 255 two more bytes (big-endian) give R' and the copy starts
// R'+8192 bytes back.
const (
	fastlzMaxDistance = 8192 // level 1: R is 13 bits
	fastlzMaxLiteral  = 32
	fastlzMaxMatch    = 264
)

// fastlzDecode decodes a FastLZ block into exactly n bytes; every reference and length is checked.
func fastlzDecode(in []byte, n int) ([]byte, error) {
	if len(in) == 0 {
		return nil, errors.New("fastlz: empty block")
	}
	tag := in[0] >> 5 // 0: level 1, 1: level 2
	if tag > 1 {
		return nil, fmt.Errorf("fastlz: unknown block tag %d", tag)
	}
	out := make([]byte, 0, n)
	ip := 0
	first := true
	need := func(k int) error {
		if ip+k > len(in) {
			return errors.New("fastlz: block ends inside an instruction")
		}
		return nil
	}
	for ip < len(in) {
		op := in[ip]
		if first {
			op &= 31
			first = false
		}
		ip++
		kind := op >> 5
		if kind == 0 {
			run := int(op&31) + 1
			if err := need(run); err != nil {
				return nil, err
			}
			if len(out)+run > n {
				return nil, fmt.Errorf("fastlz: output exceeds %d bytes", n)
			}
			out = append(out, in[ip:ip+run]...)
			ip += run
			continue
		}
		length := int(kind) + 2
		if kind == 7 {
			length = 9
			for {
				if err := need(1); err != nil {
					return nil, err
				}
				b := in[ip]
				ip++
				length += int(b)
				if tag == 0 || b != 255 {
					break
				}
			}
		}
		if err := need(1); err != nil {
			return nil, err
		}
		r := in[ip]
		ip++
		back := (int(op&31)<<8 | int(r)) + 1
		if tag == 1 && op&31 == 31 && r == 255 {
			if err := need(2); err != nil {
				return nil, err
			}
			back = (int(in[ip])<<8 | int(in[ip+1])) + fastlzMaxDistance
			ip += 2
		}
		if back > len(out) {
			return nil, fmt.Errorf("fastlz: reference %d bytes back at output offset %d", back, len(out))
		}
		if len(out)+length > n {
			return nil, fmt.Errorf("fastlz: output exceeds %d bytes", n)
		}
		from := len(out) - back
		for i := 0; i < length; i++ { // byte by byte: a match may overlap its own output
			out = append(out, out[from+i])
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("fastlz: block holds %d bytes, %d announced", len(out), n)
	}
	return out, nil
}

// fastlzEncode encodes in as a level-1 block (greedy matching over a 3-byte hash); nil for empty input.
func fastlzEncode(in []byte) []byte {
	if len(in) == 0 {
		return nil
	}
	const hashBits = 13
	var table [1 << hashBits]int32 // position+1 of the last 3-byte sequence with that hash
	hash := func(i int) uint32 {
		v := uint32(in[i]) | uint32(in[i+1])<<8 | uint32(in[i+2])<<16
		return (v * 2654435761) >> (32 - hashBits)
	}
	out := make([]byte, 0, len(in)+len(in)/fastlzMaxLiteral+1)
	lit := 0 // start of the pending literals
	flush := func(end int) {
		for lit < end {
			run := end - lit
			if run > fastlzMaxLiteral {
				run = fastlzMaxLiteral
			}
			out = append(out, byte(run-1))
			out = append(out, in[lit:lit+run]...)
			lit += run
		}
	}
	i := 1 // the first instruction must be a literal run
	for i+3 <= len(in) {
		h := hash(i)
		cand := int(table[h]) - 1
		table[h] = int32(i + 1)
		if cand < 0 || i-cand > fastlzMaxDistance || in[cand] != in[i] || in[cand+1] != in[i+1] || in[cand+2] != in[i+2] {
			i++
			continue
		}
		length := 3
		for i+length < len(in) && length < fastlzMaxMatch && in[cand+length] == in[i+length] {
			length++
		}
		flush(i)
		r := i - cand - 1
		if length <= 8 {
			out = append(out, byte((length-2)<<5|r>>8), byte(r))
		} else {
			out = append(out, byte(7<<5|r>>8), byte(length-9), byte(r))
		}
		i += length
		lit = i
	}
	flush(len(in))
	return out
}

// skipzDecode decodes a SkipZ fragment into exactly n bytes; runs must be in order, non-empty,
// non-overlapping and inside the fragment.
func skipzDecode(in []byte, n int) ([]byte, error) {
	if len(in) < 8 {
		return nil, errors.New("skipz: shorter than its 8-byte header")
	}
	if total := get32(in, 0); int64(total) != int64(n) || get32(in, 4) != 0 {
		return nil, fmt.Errorf("skipz: header says %d bytes (and %d), %d announced", total, get32(in, 4), n)
	}
	out := make([]byte, n)
	end := 0
	for ip := 8; ip < len(in); {
		if ip+8 > len(in) {
			return nil, errors.New("skipz: truncated run header")
		}
		off, length := int64(get32(in, ip)), int64(get32(in, ip+4))
		ip += 8
		if length == 0 || off < int64(end) || off+length > int64(n) || int64(ip)+length > int64(len(in)) {
			return nil, fmt.Errorf("skipz: bad run at %d+%d", off, length)
		}
		copy(out[off:], in[ip:ip+int(length)])
		ip += int(length)
		end = int(off + length)
	}
	return out, nil
}

// skipzEncode encodes in as SkipZ, one run per stretch of non-zero 512-byte blocks.
func skipzEncode(in []byte) []byte {
	out := make([]byte, 8, 64)
	put32(out, 0, uint32(len(in)))
	for start := 0; start < len(in); {
		if isZero(in[start:minInt(start+sectorSize, len(in))]) {
			start += sectorSize
			continue
		}
		end := start
		for end < len(in) && !isZero(in[end:minInt(end+sectorSize, len(in))]) {
			end += sectorSize
		}
		end = minInt(end, len(in))
		var hdr [8]byte
		put32(hdr[:], 0, uint32(start))
		put32(hdr[:], 4, uint32(end-start))
		out = append(out, hdr[:]...)
		out = append(out, in[start:end]...)
		start = end
	}
	return out
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
