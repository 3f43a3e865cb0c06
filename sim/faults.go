// Concept: fault injection on the SDK endpoint (dropped connections, delays, HTTP 503, malformed
// XML) and on /folder (a connection dropped after part of the body, an HTTP error status, a
// delayed answer, a service ticket refused as used or lapsed), armed and cleared through the
// admin endpoint. Injected SDK faults act before the call reaches the simulator, so
// the call itself never runs.

package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// faultRequest is the admin endpoint's JSON body for POST /fault.
type faultRequest struct {
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
	Method string `json:"method"`
	Ms     int    `json:"ms"`
	After  int64  `json:"after"`  // folder_drop: body bytes sent before the connection is closed
	Status int    `json:"status"` // folder_status: the HTTP status to answer (400-599)
}

type faultInjector struct {
	mu              sync.Mutex
	drop            int
	http503         int
	malformed       int
	delay           map[string]time.Duration
	folderDrop      int
	folderDropAfter int64
	folderStatus    int // armed count of folder_status (folder_503 is status 503)
	folderStatusIs  int
	folderDelay     int
	folderDelayMs   int
	staleTicket     int
}

func newFaultInjector() *faultInjector {
	return &faultInjector{delay: make(map[string]time.Duration)}
}

func (f *faultInjector) arm(r faultRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	switch r.Kind {
	case "drop", "http503", "malformed", "folder_drop", "folder_503", "folder_status",
		"folder_delay", "folder_stale_ticket":
		if r.Count < 0 || r.After < 0 || r.Ms < 0 {
			return fmt.Errorf("count, after and ms must not be negative")
		}
		switch r.Kind {
		case "drop":
			f.drop = r.Count
		case "http503":
			f.http503 = r.Count
		case "folder_drop":
			f.folderDrop, f.folderDropAfter = r.Count, r.After
		case "folder_503":
			f.folderStatus, f.folderStatusIs = r.Count, http.StatusServiceUnavailable
		case "folder_status":
			if r.Status < 400 || r.Status > 599 {
				return fmt.Errorf("folder_status needs a status from 400 to 599")
			}
			f.folderStatus, f.folderStatusIs = r.Count, r.Status
		case "folder_delay":
			f.folderDelay, f.folderDelayMs = r.Count, r.Ms
		case "folder_stale_ticket":
			f.staleTicket = r.Count
		default:
			f.malformed = r.Count
		}
	case "delay":
		if r.Method == "" || r.Ms < 0 {
			return fmt.Errorf("delay needs a method and ms >= 0")
		}
		if r.Ms == 0 {
			delete(f.delay, r.Method)
		} else {
			f.delay[r.Method] = time.Duration(r.Ms) * time.Millisecond
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want drop, delay, http503, malformed, folder_drop, folder_503, folder_status, folder_delay or folder_stale_ticket)", r.Kind)
	}
	return nil
}

func (f *faultInjector) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop, f.http503, f.malformed, f.folderDrop = 0, 0, 0, 0
	f.folderStatus, f.folderDelay, f.staleTicket = 0, 0, 0
	f.delay = make(map[string]time.Duration)
}

// take consumes one armed occurrence of a counted fault.
func (f *faultInjector) take(counter *int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *counter == 0 {
		return false
	}
	*counter--
	return true
}

func (f *faultInjector) takeDrop() bool      { return f.take(&f.drop) }
func (f *faultInjector) take503() bool       { return f.take(&f.http503) }
func (f *faultInjector) takeMalformed() bool { return f.take(&f.malformed) }

// takeStaleTicket consumes one armed folder_stale_ticket: the ticket presented is to be refused
// as used or lapsed (it is used up all the same).
func (f *faultInjector) takeStaleTicket() bool { return f.take(&f.staleTicket) }

// takeFolderStatus consumes one armed folder_status (or folder_503) and returns the status to
// answer (ok false: none armed).
func (f *faultInjector) takeFolderStatus() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.folderStatus == 0 {
		return 0, false
	}
	f.folderStatus--
	return f.folderStatusIs, true
}

// takeFolderDelay consumes one armed folder_delay and returns how long to wait before answering.
func (f *faultInjector) takeFolderDelay() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.folderDelay == 0 {
		return 0, false
	}
	f.folderDelay--
	return time.Duration(f.folderDelayMs) * time.Millisecond, true
}

// takeFolderDrop consumes one armed folder_drop and returns after how many body bytes the
// connection is to be closed (ok false: none armed).
func (f *faultInjector) takeFolderDrop() (int64, bool) {
	if !f.take(&f.folderDrop) {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.folderDropAfter, true
}

func (f *faultInjector) delayFor(method string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delay[method]
}
