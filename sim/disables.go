// Concept: the table of disabled methods — DisableMethods / EnableMethods semantics (DESIGN.md
// points 1-4) — and its mirror in each entity's disabledMethod property.

package main

import (
	"sort"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type disableKey struct {
	entity types.ManagedObjectReference
	method string
}

// disableRecord is one (entity, method) disable; at most one source holds a pair at a time.
type disableRecord struct {
	Entity        string    `json:"entity"`
	Method        string    `json:"method"`
	Source        string    `json:"source"`
	Reason        string    `json:"reason"`
	SessionScoped bool      `json:"session_scoped"`
	Session       string    `json:"session"` // owning session key; "" for the simulator's own holds
	Since         time.Time `json:"since"`
}

type disableTable struct {
	pol *policy

	mu      sync.Mutex
	records map[disableKey]*disableRecord
	// mirrored marks disabledMethod entries this table added (vcsim's own entries are left alone).
	mirrored map[disableKey]bool
}

func newDisableTable(pol *policy) *disableTable {
	return &disableTable{
		pol:      pol,
		records:  make(map[disableKey]*disableRecord),
		mirrored: make(map[disableKey]bool),
	}
}

// checkEntities answers ManagedObjectNotFound for the first reference that is not a managed entity.
func checkEntities(refs []types.ManagedObjectReference) types.BaseMethodFault {
	for _, ref := range refs {
		if _, ok := simulator.Map.Get(ref).(mo.Entity); !ok {
			return &types.ManagedObjectNotFound{Obj: ref}
		}
	}
	return nil
}

// disable applies DisableMethods atomically: either every pair is disabled (or already held by
// this source) or nothing changes and the first conflicting holder is named in the fault.
func (t *disableTable) disable(session string, entities []types.ManagedObjectReference,
	methods []object.DisabledMethodRequest, source string, scoped bool) types.BaseMethodFault {
	if f := checkEntities(entities); f != nil {
		return f
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	for _, e := range entities {
		for _, m := range methods {
			r := t.records[disableKey{e, m.Method}]
			if r != nil && (r.Source != source || t.pol.sameSourceFault) {
				return &types.MethodAlreadyDisabledFault{SourceId: r.Source}
			}
		}
	}

	now := time.Now().UTC()
	var changed []disableKey
	for _, e := range entities {
		for _, m := range methods {
			k := disableKey{e, m.Method}
			if t.records[k] != nil {
				continue // same source again: nothing changes
			}
			t.records[k] = &disableRecord{
				Entity: e.Value, Method: m.Method, Source: source, Reason: m.Reason,
				SessionScoped: scoped, Session: session, Since: now,
			}
			changed = append(changed, k)
		}
	}
	t.mirror(changed)
	return nil
}

// enable applies EnableMethods: it removes the given source's disables, or every source's when
// source is empty. Pairs that are not disabled are ignored.
func (t *disableTable) enable(entities []types.ManagedObjectReference, methods []string, source string) types.BaseMethodFault {
	if f := checkEntities(entities); f != nil {
		return f
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	var changed []disableKey
	for _, e := range entities {
		for _, m := range methods {
			k := disableKey{e, m}
			if r := t.records[k]; r != nil && (source == "" || r.Source == source) {
				delete(t.records, k)
				changed = append(changed, k)
			}
		}
	}
	t.mirror(changed)
	return nil
}

// hold disables a method on behalf of the simulator itself (no owning session) if nobody holds it.
func (t *disableTable) hold(entity types.ManagedObjectReference, method, source string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()

	k := disableKey{entity, method}
	if t.records[k] != nil {
		return false
	}
	t.records[k] = &disableRecord{Entity: entity.Value, Method: method, Source: source, Since: time.Now().UTC()}
	t.mirror([]disableKey{k})
	return true
}

// release ends a hold made by hold, unless someone has enabled the method meanwhile.
func (t *disableTable) release(entity types.ManagedObjectReference, method, source string) {
	t.mu.Lock()
	defer t.mu.Unlock()

	k := disableKey{entity, method}
	if r := t.records[k]; r != nil && r.Source == source && r.Session == "" {
		delete(t.records, k)
		t.mirror([]disableKey{k})
	}
}

// dropSession removes the sessionScope disables owned by a session that has ended.
func (t *disableTable) dropSession(session string) {
	if !t.pol.sessionScope {
		return
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	var changed []disableKey
	for k, r := range t.records {
		if r.SessionScoped && r.Session == session {
			delete(t.records, k)
			changed = append(changed, k)
		}
	}
	t.mirror(changed)
}

// blocker names the source that blocks session from calling method on entity, if any.
// The session that made a disable may still call the method; the simulator's holds block everyone.
func (t *disableTable) blocker(entity types.ManagedObjectReference, method, session string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()

	r := t.records[disableKey{entity, method}]
	if r == nil || (r.Session != "" && r.Session == session) {
		return "", false
	}
	return r.Source, true
}

// list returns a copy of the table, ordered by entity and method.
func (t *disableTable) list() []disableRecord {
	t.mu.Lock()
	defer t.mu.Unlock()

	out := make([]disableRecord, 0, len(t.records))
	for _, r := range t.records {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Entity != out[j].Entity {
			return out[i].Entity < out[j].Entity
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// mirror brings the disabledMethod property of the entities behind keys in line with the table.
// Called with t.mu held; it takes each entity's vcsim lock in turn (vcsim never calls back into
// this table while holding an entity lock, so the order is safe).
func (t *disableTable) mirror(keys []disableKey) {
	byEntity := make(map[types.ManagedObjectReference][]disableKey)
	for _, k := range keys {
		byEntity[k.entity] = append(byEntity[k.entity], k)
	}

	for ref, ks := range byEntity {
		obj := simulator.Map.Get(ref)
		e, ok := obj.(mo.Entity)
		if !ok {
			continue
		}
		simulator.Map.WithLock(obj, func() {
			current := e.Entity().DisabledMethod
			next := append([]string(nil), current...)
			for _, k := range ks {
				held := t.records[k] != nil
				switch {
				case held && !contains(next, k.method):
					next = append(next, k.method)
					t.mirrored[k] = true
				case !held && t.mirrored[k]:
					next = remove(next, k.method)
					delete(t.mirrored, k)
				}
			}
			if len(next) != len(current) {
				simulator.Map.Update(obj, []types.PropertyChange{{Name: "disabledMethod", Val: next}})
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
