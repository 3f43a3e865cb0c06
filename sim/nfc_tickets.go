// Concept: NFC tickets — the HostServiceTicket sessionIds the NfcService hands out (nfc.md §1),
// each bound to a VM, for random-access tickets a disk, a mode (read-only or writable) and the host
// that must honour it; single use (redeemed by the authd SESSION line, §2.3) and expiring after
// --nfc-ticket-ttl (§5.4). Ticket ids are secrets: never logged, shown by the admin endpoint only
// as an 8-character prefix.

package main

import (
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"time"
)

type ticketKind int

const (
	ticketVMFiles    ticketKind = iota // NfcGetVmFiles: read-only, any disk of the VM
	ticketRandomRead                   // NfcRandomAccessOpenReadonly: read-only, one disk
	ticketRandomRW                     // NfcRandomAccessOpenDisk: read-write, one disk
)

var ticketKindName = map[ticketKind]string{
	ticketVMFiles: "NfcGetVmFiles", ticketRandomRead: "NfcRandomAccessOpenReadonly", ticketRandomRW: "NfcRandomAccessOpenDisk",
}

type nfcTicket struct {
	id      string
	kind    ticketKind
	vm      string
	diskKey int32  // 0 for NfcGetVmFiles
	host    string // HostSystem moref whose authd honours it
	service string // "vpxa-nfc" (vCenter) or "nfc" (ESXi), nfc.md §1
	issued  time.Time
	used    bool
}

func (t *nfcTicket) writable() bool { return t.kind == ticketRandomRW }

// ticketView is the admin endpoint's JSON form of a ticket.
type ticketView struct {
	Prefix   string `json:"session_id_prefix"`
	Method   string `json:"method"`
	VM       string `json:"vm"`
	DiskKey  int32  `json:"disk_key"`
	Host     string `json:"host"`
	Writable bool   `json:"writable"`
	Issued   string `json:"issued"`
	Used     bool   `json:"used"`
}

// maxTickets bounds the table; the oldest used or expired tickets go first.
const maxTickets = 10000

type nfcTicketTable struct {
	pol *nfcPolicy
	now func() time.Time

	mu    sync.Mutex
	byID  map[string]*nfcTicket
	stale int // the next this many redeemed tickets are refused (admin fault "stale_ticket")
}

func newNFCTicketTable(pol *nfcPolicy) *nfcTicketTable {
	return &nfcTicketTable{pol: pol, now: time.Now, byID: make(map[string]*nfcTicket)}
}

// issue records a fresh ticket and returns a copy of it. It fails only when the system's random
// source does.
func (t *nfcTicketTable) issue(kind ticketKind, vm string, diskKey int32, host, service string) (nfcTicket, error) {
	id, err := newUUID()
	if err != nil {
		return nfcTicket{}, err
	}
	tk := &nfcTicket{id: id, kind: kind, vm: vm, diskKey: diskKey, host: host, service: service, issued: t.now()}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune()
	t.byID[id] = tk
	return *tk, nil
}

// prune drops used and expired tickets while the table is full. Called with t.mu held.
func (t *nfcTicketTable) prune() {
	if len(t.byID) < maxTickets {
		return
	}
	now := t.now()
	for id, tk := range t.byID {
		if tk.used || now.Sub(tk.issued) > t.pol.ticketTTL {
			delete(t.byID, id)
		}
	}
}

// redeem uses up the ticket id presented to host's authd. It returns a copy of the ticket, or a
// reason for refusing it (unknown, used, expired, another host's, or made stale by the admin);
// a known ticket is used up either way.
func (t *nfcTicketTable) redeem(id, host string) (nfcTicket, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk := t.byID[id]
	switch {
	case tk == nil:
		return nfcTicket{}, "unknown ticket"
	case tk.used:
		return nfcTicket{}, "ticket already used"
	}
	tk.used = true
	switch {
	case t.stale > 0:
		t.stale--
		return nfcTicket{}, "ticket made stale by the admin endpoint"
	case t.now().Sub(tk.issued) > t.pol.ticketTTL:
		return nfcTicket{}, "ticket expired"
	case tk.host != host:
		return nfcTicket{}, "ticket issued for host " + tk.host
	}
	return *tk, ""
}

// makeStale arms the "stale_ticket" fault: the next redeemed ticket is refused.
func (t *nfcTicketTable) makeStale() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stale++
}

func (t *nfcTicketTable) clearFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stale = 0
}

// list returns every ticket in the table, oldest first.
func (t *nfcTicketTable) list() []ticketView {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ticketView, 0, len(t.byID))
	for _, tk := range t.byID {
		out = append(out, ticketView{
			Prefix: tk.id[:8], Method: ticketKindName[tk.kind], VM: tk.vm, DiskKey: tk.diskKey, Host: tk.host,
			Writable: tk.writable(), Issued: tk.issued.UTC().Format(time.RFC3339Nano), Used: tk.used,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Issued < out[j].Issued })
	return out
}

// newUUID returns a random (version 4) UUID in its usual text form (nfc.md §1: "UUID-like").
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
