// Concept: tests of sessions and users — logins, NotAuthenticated after a session ends, the
// sessionScope lease (DESIGN.md point 3) and the reader's missing privileges (point 7).

package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestInvalidLogin(t *testing.T) {
	s := startSim(t)
	for _, cred := range [][2]string{{"admin", "wrong"}, {"reader", "wrong"}, {"root", "freevix"}, {"user", "pass"}} {
		_, err := s.login(t, cred[0], cred[1])
		faultOf[types.InvalidLogin](t, err)
	}
	if _, err := s.login(t, "reader", "freevix"); err != nil {
		t.Fatalf("reader login: %v", err)
	}
}

func TestUnauthenticatedCallsAreRefused(t *testing.T) {
	s := startSim(t)
	c, err := s.connect(t)
	if err != nil {
		t.Fatal(err)
	}
	faultOf[types.NotAuthenticated](t, disable(c, "backup", s.vm(t, 0)))
	us, err := session.NewManager(c).UserSession(context.Background())
	if err != nil || us != nil {
		t.Fatalf("UserSession without login: %v %v", us, err)
	}
	var m mo.VirtualMachine
	err = property.DefaultCollector(c).RetrieveOne(context.Background(), s.vm(t, 0), []string{"name"}, &m)
	faultOf[types.NotAuthenticated](t, err)
}

func TestReaderLacksDisablePrivileges(t *testing.T) {
	s := startSim(t)
	reader, err := s.login(t, "reader", "freevix")
	if err != nil {
		t.Fatal(err)
	}
	vm := s.vm(t, 0)
	root := reader.ServiceContent.RootFolder

	f := faultOf[types.NoPermission](t, disable(reader, "backup", vm))
	if f.PrivilegeId != privDisableMethods || f.Object != root {
		t.Fatalf("disable: %+v", f)
	}
	f = faultOf[types.NoPermission](t, enable(reader, "backup", vm))
	if f.PrivilegeId != privEnableMethods || f.Object != root {
		t.Fatalf("enable: %+v", f)
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("table changed: %+v", d)
	}

	admin := s.admin(t)
	privs := []string{privDisableMethods, privEnableMethods, "System.Read"}
	for _, tc := range []struct {
		c    *vim25.Client
		want []bool
	}{{admin, []bool{true, true, true}}, {reader, []bool{false, false, true}}} {
		res, err := methods.HasPrivilegeOnEntities(context.Background(), admin, &types.HasPrivilegeOnEntities{
			This: *admin.ServiceContent.AuthorizationManager, Entity: refs(root), SessionId: sessionKey(t, tc.c), PrivId: privs,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Returnval) != 1 || res.Returnval[0].Entity != root || len(res.Returnval[0].PrivAvailability) != 3 {
			t.Fatalf("answer %+v", res.Returnval)
		}
		for i, p := range res.Returnval[0].PrivAvailability {
			if p.PrivId != privs[i] || p.IsGranted != tc.want[i] {
				t.Fatalf("privilege %d: %+v, want granted=%v", i, p, tc.want[i])
			}
		}
	}
}

// scopedSetup logs in two admin sessions, the first holding a sessionScope disable and a
// persistent one.
func scopedSetup(t *testing.T, s *sim) (owner *vim25.Client, key string, vm0, vm1 types.ManagedObjectReference) {
	t.Helper()
	owner = s.admin(t)
	vm0, vm1 = s.vm(t, 0), s.vm(t, 1)
	if err := disableScoped(owner, "lease", vm0); err != nil {
		t.Fatal(err)
	}
	if err := disable(owner, "persistent", vm1); err != nil {
		t.Fatal(err)
	}
	d := s.disabled(t)
	if len(d) != 2 || !d[0].SessionScoped || d[1].SessionScoped {
		t.Fatalf("table %+v", d)
	}
	return owner, sessionKey(t, owner), vm0, vm1
}

// checkLeaseEnded: the scoped disable is gone (table and property), the persistent one stays,
// and the session's cookie is refused.
func checkLeaseEnded(t *testing.T, s *sim, owner *vim25.Client, vm0 types.ManagedObjectReference) {
	t.Helper()
	d := s.disabled(t)
	if len(d) != 1 || d[0].Source != "persistent" {
		t.Fatalf("table after session end: %+v", d)
	}
	if got := disabledMethods(t, s.admin(t), vm0); contains(got, relocateMethod) {
		t.Fatalf("disabledMethod still lists it: %v", got)
	}
	faultOf[types.NotAuthenticated](t, disable(owner, "again", vm0))
	if us, err := session.NewManager(owner).UserSession(context.Background()); err != nil || us != nil {
		t.Fatalf("UserSession after the end: %v %v", us, err)
	}
}

func TestSessionScopeEndsWithLogout(t *testing.T) {
	s := startSim(t)
	owner, _, vm0, _ := scopedSetup(t, s)
	if err := session.NewManager(owner).Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkLeaseEnded(t, s, owner, vm0)
}

func TestSessionScopeEndsWithTerminateSession(t *testing.T) {
	s := startSim(t)
	owner, key, vm0, _ := scopedSetup(t, s)
	if err := session.NewManager(s.admin(t)).TerminateSession(context.Background(), []string{key}); err != nil {
		t.Fatal(err)
	}
	checkLeaseEnded(t, s, owner, vm0)
}

func TestSessionScopeEndsWithAdminExpiry(t *testing.T) {
	s := startSim(t)
	owner, key, vm0, _ := scopedSetup(t, s)

	if code := s.call(t, http.MethodPost, "/sessions/expire", map[string]string{"key": "no-such-key"}, nil); code != http.StatusNotFound {
		t.Fatalf("unknown key: %d", code)
	}
	var res struct{ Expired []string }
	if code := s.call(t, http.MethodPost, "/sessions/expire", map[string]string{"key": key}, &res); code != http.StatusOK ||
		len(res.Expired) != 1 || res.Expired[0] != key {
		t.Fatalf("expire: %d %+v", code, res)
	}
	checkLeaseEnded(t, s, owner, vm0)

	// {} expires every session.
	other := s.admin(t)
	if code := s.call(t, http.MethodPost, "/sessions/expire", map[string]string{}, &res); code != http.StatusOK || len(res.Expired) < 1 {
		t.Fatalf("expire all: %d %+v", code, res)
	}
	faultOf[types.NotAuthenticated](t, disable(other, "again", vm0))
	var left []sessionView
	s.call(t, http.MethodGet, "/sessions", nil, &left)
	if len(left) != 0 {
		t.Fatalf("sessions left: %+v", left)
	}
}

func TestSessionScopeEndsWithIdleExpiry(t *testing.T) {
	s := startSim(t, "--session-idle-timeout", "600ms")
	owner, key, vm0, _ := scopedSetup(t, s)

	var sessions []sessionView
	s.call(t, http.MethodGet, "/sessions", nil, &sessions)
	found := false
	for _, v := range sessions {
		found = found || (v.Key == key && v.User == "admin" && v.IdleSeconds < 0.6)
	}
	if !found {
		t.Fatalf("session %s not listed: %+v", key, sessions)
	}

	waitFor(t, 5*time.Second, "the lease to expire", func() bool { return len(s.disabled(t)) == 1 })
	checkLeaseEnded(t, s, owner, vm0)
}

func TestSessionScopeIgnorePolicy(t *testing.T) {
	s := startSim(t, "--session-scope", "ignore")
	owner, _, _, _ := scopedSetup(t, s)
	if err := session.NewManager(owner).Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := s.disabled(t); len(d) != 2 {
		t.Fatalf("scoped disable dropped despite --session-scope ignore: %+v", d)
	}
}

func TestScopedDisableOwnerExemption(t *testing.T) {
	s := startSim(t, "--relocate-seconds", "0")
	owner, _, vm0, _ := scopedSetup(t, s)
	ctx := context.Background()
	task, err := object.NewVirtualMachine(owner, vm0).Relocate(ctx, types.VirtualMachineRelocateSpec{}, "")
	if err != nil {
		t.Fatalf("owner relocate: %v", err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = object.NewVirtualMachine(s.admin(t), vm0).Relocate(ctx, types.VirtualMachineRelocateSpec{}, "")
	if f := faultOf[types.MethodDisabled](t, err); f.Source != "lease" {
		t.Fatalf("source %q", f.Source)
	}
}
