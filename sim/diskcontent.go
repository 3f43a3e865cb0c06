// Concept: the deterministic content of the simulated disks — a byte stream per seed (what a
// base disk holds in its data regions and what POST /guest/write writes), and the choice of data
// regions and holes of a base disk, so every disk's true content is a pure function of its seed.
//
// Design: the byte at disk offset o of the stream of seed s is byte o%8 (little-endian) of the
// 64-bit word mix(s, o/8), where mix is SplitMix64's finaliser; the stream is keyed on the disk
// offset, so a write of seed s at any offset lands the same bytes wherever it is split. A base disk
// is cut into regions of seedRegion bytes; region i holds the stream of the disk's seed when
// regionHasData says so and is never written otherwise (a hole of the thin flat extent).

package main

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"
)

// seedRegion is the size of the regions a base disk is cut into (data or hole).
const seedRegion = 1 << 20

// mix is SplitMix64's output function applied to seed and word index w.
func mix(seed, w uint64) uint64 {
	z := seed + (w+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// fillPattern fills p with the stream of seed from disk offset off (off >= 0).
func fillPattern(seed uint64, off int64, p []byte) {
	var word [8]byte
	i := 0
	for i < len(p) {
		o := uint64(off) + uint64(i)
		if o%8 == 0 && len(p)-i >= 8 {
			binary.LittleEndian.PutUint64(p[i:], mix(seed, o/8))
			i += 8
			continue
		}
		binary.LittleEndian.PutUint64(word[:], mix(seed, o/8))
		p[i] = word[o%8]
		i++
	}
}

// regionHasData reports whether region i of n (n >= 1) of a base disk of seed holds data: the
// first and the last always do, the second never does (so every disk of three regions or more has
// a hole that was never written), and the others do with probability 3/8.
func regionHasData(seed uint64, i, n int64) bool {
	switch {
	case i == 0 || i == n-1:
		return true
	case i == 1:
		return false
	}
	return mix(seed^0xD15C0A7A, uint64(i))%8 < 3
}

// diskSeed is the seed of a VM's disk: a hash of the VM's name and the device key, so the same
// inventory always has the same content.
func diskSeed(vmName string, key int32) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("freevix-sim/" + vmName + "/" + strconv.Itoa(int(key))))
	return h.Sum64()
}
