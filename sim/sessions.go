// Concept: the SDK sessions the simulator knows about — who holds each session cookie, how long
// it has been idle, and the single place where a session ends (Logout, TerminateSession, admin
// or idle expiry), which is also where its sessionScope disables are dropped.

package main

import (
	"context"
	"sort"
	"sync"
	"time"
)

type sdkSession struct {
	key        string
	user       string
	lastActive time.Time
}

// sessionView is the admin endpoint's JSON form of a session.
type sessionView struct {
	Key         string  `json:"key"`
	User        string  `json:"user"`
	IdleSeconds float64 `json:"idle_seconds"`
}

type sessionTable struct {
	idle  time.Duration            // 0: sessions never expire for idleness
	onEnd func(key, reason string) // runs after a session has left the table

	mu    sync.Mutex
	byKey map[string]*sdkSession
}

func newSessionTable(idle time.Duration, onEnd func(key, reason string)) *sessionTable {
	return &sessionTable{idle: idle, onEnd: onEnd, byKey: make(map[string]*sdkSession)}
}

func (t *sessionTable) add(key, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byKey[key] = &sdkSession{key: key, user: user, lastActive: time.Now()}
}

// touch marks a session active and returns a copy of it, or nil when key names no live session.
func (t *sessionTable) touch(key string) *sdkSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byKey[key]
	if s == nil {
		return nil
	}
	s.lastActive = time.Now()
	c := *s
	return &c
}

// get returns a copy of a live session without marking it active.
func (t *sessionTable) get(key string) *sdkSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byKey[key]
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// end removes a session and runs onEnd; it reports whether the session was live.
func (t *sessionTable) end(key, reason string) bool {
	t.mu.Lock()
	_, ok := t.byKey[key]
	delete(t.byKey, key)
	t.mu.Unlock()

	if ok {
		verbose.Printf("session %.8s… ended: %s", key, reason)
		t.onEnd(key, reason)
	}
	return ok
}

// endAll ends every live session and returns their keys.
func (t *sessionTable) endAll(reason string) []string {
	var keys []string
	for _, s := range t.list() {
		if t.end(s.Key, reason) {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

func (t *sessionTable) list() []sessionView {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	out := make([]sessionView, 0, len(t.byKey))
	for _, s := range t.byKey {
		out = append(out, sessionView{Key: s.key, User: s.user, IdleSeconds: now.Sub(s.lastActive).Seconds()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// expireIdle ends the sessions idle for longer than the idle timeout.
func (t *sessionTable) expireIdle(now time.Time) {
	var idle []string
	t.mu.Lock()
	for key, s := range t.byKey {
		if now.Sub(s.lastActive) > t.idle {
			idle = append(idle, key)
		}
	}
	t.mu.Unlock()

	for _, key := range idle {
		t.end(key, "idle timeout")
	}
}

// reap expires idle sessions until ctx is done; it returns at once when there is no idle timeout.
func (t *sessionTable) reap(ctx context.Context) {
	if t.idle <= 0 {
		return
	}
	every := t.idle / 4
	if every < 50*time.Millisecond {
		every = 50 * time.Millisecond
	}
	if every > time.Second {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.expireIdle(now)
		}
	}
}
