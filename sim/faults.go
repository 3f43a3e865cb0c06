// Concept: fault injection on the SDK endpoint (dropped connections, delays, HTTP 503, malformed
// XML) and on /folder (a connection dropped after part of the body, HTTP 503), armed and cleared
// through the admin endpoint. Injected SDK faults act before the call reaches the simulator, so
// the call itself never runs.

package main

import (
	"fmt"
	"sync"
	"time"
)

// faultRequest is the admin endpoint's JSON body for POST /fault.
type faultRequest struct {
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
	Method string `json:"method"`
	Ms     int    `json:"ms"`
	After  int64  `json:"after"` // folder_drop: body bytes sent before the connection is closed
}

type faultInjector struct {
	mu              sync.Mutex
	drop            int
	http503         int
	malformed       int
	delay           map[string]time.Duration
	folderDrop      int
	folderDropAfter int64
	folder503       int
}

func newFaultInjector() *faultInjector {
	return &faultInjector{delay: make(map[string]time.Duration)}
}

func (f *faultInjector) arm(r faultRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	switch r.Kind {
	case "drop", "http503", "malformed", "folder_drop", "folder_503":
		if r.Count < 0 || r.After < 0 {
			return fmt.Errorf("count and after must not be negative")
		}
		switch r.Kind {
		case "drop":
			f.drop = r.Count
		case "http503":
			f.http503 = r.Count
		case "folder_drop":
			f.folderDrop, f.folderDropAfter = r.Count, r.After
		case "folder_503":
			f.folder503 = r.Count
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
		return fmt.Errorf("unknown fault kind %q (want drop, delay, http503, malformed, folder_drop or folder_503)", r.Kind)
	}
	return nil
}

func (f *faultInjector) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop, f.http503, f.malformed, f.folderDrop, f.folder503 = 0, 0, 0, 0, 0
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
func (f *faultInjector) takeFolder503() bool { return f.take(&f.folder503) }

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
