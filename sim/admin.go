// Concept: the admin endpoint — a plain-HTTP JSON API on loopback, for tests only, that shows the
// true disable table, sessions, VMs (with their disks) and traffic counters, and expires sessions,
// starts Storage vMotions and arms fault injection; the disk requests are in admindisks.go.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

type admin struct {
	disables *disableTable
	sessions *sessionTable
	mover    *mover
	faults   *faultInjector
	stats    *stats
	inv      *inventory
	relocate time.Duration // default length of POST /relocate moves
	nfc      *nfcHub
	store    *diskStore
	// closeIdle closes the idle keep-alive connections of the SDK endpoint and of every host
	// listener (set once they serve).
	closeIdle func()
}

type route struct {
	method string
	handle func(r *http.Request) (interface{}, int, error)
}

func (a *admin) handler() http.Handler {
	routes := map[string]route{
		"/health":                 {http.MethodGet, a.health},
		"/disabled":               {http.MethodGet, a.disabled},
		"/sessions":               {http.MethodGet, a.listSessions},
		"/sessions/expire":        {http.MethodPost, a.expire},
		"/relocate":               {http.MethodPost, a.startRelocate},
		"/fault":                  {http.MethodPost, a.fault},
		"/fault/clear":            {http.MethodPost, a.clearFaults},
		"/stats":                  {http.MethodGet, a.getStats},
		"/stats/reset":            {http.MethodPost, a.resetStats},
		"/vms":                    {http.MethodGet, a.vms},
		"/guest/write":            {http.MethodPost, a.guestWrite},
		"/disk/sha256":            {http.MethodGet, a.diskHash},
		"/disk/allocated":         {http.MethodGet, a.diskAllocated},
		"/disk/readrate":          {http.MethodGet, a.diskReadRate},
		"/nfc/readrate":           {http.MethodGet, a.nfcReadRate},
		"/cbt/reset":              {http.MethodPost, a.cbtReset},
		"/connections/close-idle": {http.MethodPost, a.closeIdleConns},
	}
	if a.nfc != nil {
		for path, rt := range a.nfc.adminRoutes() {
			routes[path] = rt
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		switch {
		case !ok:
			writeJSON(w, http.StatusNotFound, errorBody(fmt.Errorf("no such endpoint: %s", r.URL.Path)))
		case r.Method != rt.method:
			writeJSON(w, http.StatusMethodNotAllowed, errorBody(fmt.Errorf("%s wants %s", r.URL.Path, rt.method)))
		default:
			v, status, err := rt.handle(r)
			if err != nil {
				v = errorBody(err)
			}
			writeJSON(w, status, v)
		}
	})
}

func errorBody(err error) interface{} {
	return map[string]string{"error": err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readJSON decodes a request body into v; an empty body leaves v at its zero value.
func readJSON(r *http.Request, v interface{}) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("bad JSON body: %v", err)
	}
	return nil
}

var okBody = map[string]bool{"ok": true}

func (a *admin) health(*http.Request) (interface{}, int, error) {
	return okBody, http.StatusOK, nil
}

func (a *admin) disabled(*http.Request) (interface{}, int, error) {
	return a.disables.list(), http.StatusOK, nil
}

func (a *admin) listSessions(*http.Request) (interface{}, int, error) {
	return a.sessions.list(), http.StatusOK, nil
}

// expire ends one session ({"key": ...}) or all of them ({}).
func (a *admin) expire(r *http.Request) (interface{}, int, error) {
	var q struct {
		Key string `json:"key"`
	}
	if err := readJSON(r, &q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	expired := []string{}
	if q.Key == "" {
		expired = append(expired, a.sessions.endAll("expired by admin")...)
	} else if a.sessions.end(q.Key, "expired by admin") {
		expired = append(expired, q.Key)
	} else {
		return nil, http.StatusNotFound, fmt.Errorf("no such session: %s", q.Key)
	}
	return map[string][]string{"expired": expired}, http.StatusOK, nil
}

// startRelocate starts a Storage vMotion of a VM with an empty relocate spec.
func (a *admin) startRelocate(r *http.Request) (interface{}, int, error) {
	var q struct {
		VM      string   `json:"vm"`
		Seconds *float64 `json:"seconds"`
	}
	if err := readJSON(r, &q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if q.VM == "" {
		return nil, http.StatusBadRequest, errors.New("vm is required")
	}
	d := a.relocate
	if q.Seconds != nil {
		if *q.Seconds < 0 {
			return nil, http.StatusBadRequest, errors.New("seconds must not be negative")
		}
		d = time.Duration(*q.Seconds * float64(time.Second))
	}
	vm := types.ManagedObjectReference{Type: "VirtualMachine", Value: q.VM}
	task, fault := a.mover.start(vm, types.VirtualMachineRelocateSpec{}, types.VirtualMachineMovePriorityDefaultPriority, d)
	if fault != nil {
		return nil, http.StatusNotFound, fmt.Errorf("cannot relocate %s: %s", q.VM, faultName(fault))
	}
	return map[string]string{"task": task.Value}, http.StatusOK, nil
}

func (a *admin) fault(r *http.Request) (interface{}, int, error) {
	var q faultRequest
	if err := readJSON(r, &q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := a.faults.arm(q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	return okBody, http.StatusOK, nil
}

func (a *admin) clearFaults(*http.Request) (interface{}, int, error) {
	a.faults.clear()
	if a.nfc != nil {
		a.nfc.clearFaults()
	}
	return okBody, http.StatusOK, nil
}

// closeIdleConns does what a server's idle timeout does to every idle keep-alive connection: TLS
// close_notify, then close. A client must notice and reconnect for its next request.
func (a *admin) closeIdleConns(*http.Request) (interface{}, int, error) {
	if a.closeIdle == nil {
		return nil, http.StatusServiceUnavailable, errors.New("the listeners are not serving yet")
	}
	a.closeIdle()
	return okBody, http.StatusOK, nil
}

func (a *admin) getStats(*http.Request) (interface{}, int, error) {
	return a.stats.snapshot(), http.StatusOK, nil
}

func (a *admin) resetStats(*http.Request) (interface{}, int, error) {
	a.stats.reset()
	return okBody, http.StatusOK, nil
}

func (a *admin) vms(*http.Request) (interface{}, int, error) {
	vms := a.inv.vms()
	for i := range vms {
		ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vms[i].Moref}
		vms[i].PowerState = string(powerState(ref))
		vms[i].Disks, vms[i].Snapshots = a.store.describe(ref)
	}
	return vms, http.StatusOK, nil
}
