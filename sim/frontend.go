// Concept: the SDK front door — every HTTP request to the SDK endpoint passes here first. It
// counts traffic, injects faults, authenticates the session cookie, enforces disabled methods,
// answers the calls the simulator owns (Login checks, DisableMethods, EnableMethods,
// HasPrivilegeOnEntities, RelocateVM_Task, the snapshot calls with real disks,
// QueryChangedDiskAreas, AcquireGenericServiceTicket), serves /folder, and hands everything else
// to vcsim.

package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const maxRequestBody = 64 << 20

type frontend struct {
	next     http.Handler // vcsim's mux
	esx      bool
	content  types.ServiceContent
	users    users
	sessions *sessionTable
	disables *disableTable
	mover    *mover
	faults   *faultInjector
	stats    *stats
	relocate time.Duration // how long a RelocateVM_Task takes
	nfc      *nfcHub       // the NfcService (nil: none)
	store    *diskStore
	snap     *snapshotter
	folder   *folderServer
	tickets  *ticketTable
	servers  *serverSet
}

func isSDKPath(p string) bool {
	return p == "/sdk" || p == "/sdk/vimService"
}

func (f *frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.stats.request()
	f.stats.path(r.URL.Path)
	if strings.HasPrefix(r.URL.Path, folderPrefix) {
		f.folder.serve(w, r, nil)
		return
	}
	if r.Method != http.MethodPost || !isSDKPath(r.URL.Path) {
		f.next.ServeHTTP(w, r)
		return
	}

	if f.faults.takeDrop() {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		panic(http.ErrAbortHandler)
	}
	if f.faults.take503() {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	_ = r.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	c := scanCall(body)
	if c.Name != "" {
		f.stats.method(c.Name)
	}
	if d := f.faults.delayFor(c.Name); d > 0 {
		time.Sleep(d)
	}
	if f.faults.takeMalformed() {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, malformedAnswer)
		return
	}

	f.dispatch(w, r, c, body)
}

// dispatch routes one parsed SOAP call.
func (f *frontend) dispatch(w http.ResponseWriter, r *http.Request, c call, body []byte) {
	var sess *sdkSession
	if cookie, err := r.Cookie(soap.SessionCookieName); err == nil {
		sess = f.sessions.touch(cookie.Value)
	}

	switch c.Name {
	case "RetrieveServiceContent", "":
		f.next.ServeHTTP(w, r)
		return
	case "Login":
		f.login(w, r, body)
		return
	case "LoginByToken", "LoginBySSPI", "LoginExtensionByCertificate", "LoginExtensionBySubjectName",
		"LoginExtensionByKey", "CloneSession":
		writeFault(w, &types.InvalidLogin{}, "Only password logins are simulated")
		return
	}

	if sess == nil && !f.anonymousRead(c, body) {
		writeFault(w, &types.NotAuthenticated{NoPermission: types.NoPermission{Object: c.This, PrivilegeId: "System.View"}},
			"The session is not authenticated.")
		return
	}
	if sess == nil {
		f.next.ServeHTTP(w, r)
		return
	}
	if source, blocked := f.disables.blocker(c.This, c.Name, sess.key); blocked {
		writeFault(w, &types.MethodDisabled{Source: source}, "The method is disabled by '%s'", source)
		return
	}
	if f.nfc != nil && f.nfc.serveSOAP(w, c, sess.user, body) {
		return
	}

	switch c.Name {
	case "DisableMethods", "EnableMethods":
		f.methodControl(w, c, sess, body)
	case "HasPrivilegeOnEntities":
		f.hasPrivilege(w, body)
	case relocateMethod:
		f.relocateVM(w, body)
	case "Logout":
		f.forwardThen(w, r, func(*httptest.ResponseRecorder) { f.sessions.end(sess.key, "logout") })
	case "TerminateSession":
		req, err := decodeRequest(body)
		if err != nil {
			f.next.ServeHTTP(w, r)
			return
		}
		f.forwardThen(w, r, func(*httptest.ResponseRecorder) {
			for _, key := range req.(*types.TerminateSession).SessionId {
				f.sessions.end(key, "terminated by "+sess.user)
			}
		})
	case "AcquireCloneTicket":
		writeFault(w, &types.NotSupported{}, "Clone tickets are not simulated")
	case "CreateSnapshot_Task", "RemoveSnapshot_Task", "RemoveAllSnapshots_Task", "RevertToSnapshot_Task",
		"RevertToCurrentSnapshot_Task":
		f.snapshotCall(w, r, c, body)
	case "PowerOnVM_Task":
		f.forwardThen(w, r, func(*httptest.ResponseRecorder) {
			if powerState(c.This) == types.VirtualMachinePowerStatePoweredOn {
				f.snap.poweredOn(c.This)
			}
		})
	case "Destroy_Task":
		f.forwardThen(w, r, func(*httptest.ResponseRecorder) {
			if c.This.Type == "VirtualMachine" && powerState(c.This) == "" {
				f.store.forget(c.This.Value)
			}
		})
	case "QueryChangedDiskAreas":
		f.queryChanged(w, body)
	case "AcquireGenericServiceTicket":
		f.genericTicket(w, r, body)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// snapshotCall answers the snapshot calls through the disk store (snapshots.go); calls the store
// does not take (unknown VM or snapshot) go to vcsim.
func (f *frontend) snapshotCall(w http.ResponseWriter, r *http.Request, c call, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		f.next.ServeHTTP(w, r)
		return
	}
	sn := f.snap
	var (
		task types.ManagedObjectReference
		ok   bool
	)
	switch q := req.(type) {
	case *types.CreateSnapshot_Task:
		task, ok = sn.create(q)
	case *types.RemoveSnapshot_Task:
		task, ok = sn.remove(q)
	case *types.RemoveAllSnapshots_Task:
		task, ok = sn.removeAll(q)
	case *types.RevertToSnapshot_Task:
		if vm, found := snapshotVM(q.This); found {
			task, ok = sn.revert(vm, q.This, q.SuppressPowerOn != nil && *q.SuppressPowerOn, func() (types.ManagedObjectReference, error) {
				res, err := methods.RevertToSnapshot_Task(sn.ctx, sn.client, q)
				if err != nil {
					return types.ManagedObjectReference{}, err
				}
				return res.Returnval, nil
			}, "revertToSnapshot")
		}
	case *types.RevertToCurrentSnapshot_Task:
		if cur, found := currentSnapshot(q.This); found {
			task, ok = sn.revert(q.This, cur, q.SuppressPowerOn != nil && *q.SuppressPowerOn, func() (types.ManagedObjectReference, error) {
				res, err := methods.RevertToCurrentSnapshot_Task(sn.ctx, sn.client, q)
				if err != nil {
					return types.ManagedObjectReference{}, err
				}
				return res.Returnval, nil
			}, "revertSnapshot")
		}
	}
	if !ok {
		f.next.ServeHTTP(w, r)
		return
	}
	writeResult(w, c.Name+"Response", &taskResponse{Returnval: task})
}

// queryChanged answers VirtualMachine.QueryChangedDiskAreas (cbt.go).
func (f *frontend) queryChanged(w http.ResponseWriter, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return
	}
	info, fault, msg := f.store.queryChanged(req.(*types.QueryChangedDiskAreas))
	if fault != nil {
		writeFault(w, fault, "%s", msg)
		return
	}
	writeResult(w, "QueryChangedDiskAreasResponse", &types.QueryChangedDiskAreasResponse{Returnval: *info})
}

// genericTicket answers SessionManager.AcquireGenericServiceTicket for HTTP specs with a real,
// single-use ticket (tickets.go); other specs go to vcsim.
func (f *frontend) genericTicket(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return
	}
	spec, ok := req.(*types.AcquireGenericServiceTicket).Spec.(*types.SessionManagerHttpServiceRequestSpec)
	if !ok {
		f.next.ServeHTTP(w, r)
		return
	}
	u, err := url.Parse(spec.Url)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		writeFault(w, &types.InvalidArgument{InvalidProperty: "spec.url"}, "A specified parameter was not correct: spec.url")
		return
	}
	method := ""
	if spec.Method != "" {
		if method, ok = httpMethods[spec.Method]; !ok {
			writeFault(w, &types.InvalidArgument{InvalidProperty: "spec.method"}, "A specified parameter was not correct: spec.method")
			return
		}
	}
	h, ok := f.servers.resolve(u.Host)
	if !ok {
		writeFault(w, &types.InvalidArgument{InvalidProperty: "spec.url"},
			"A specified parameter was not correct: spec.url (%s names no server of this inventory)", u.Host)
		return
	}
	t := types.SessionManagerGenericServiceTicket{Id: f.tickets.issue(serverName(h), u, method), SslThumbprint: f.servers.sdkThumb}
	if h != nil {
		t.HostName, t.SslThumbprint = h.Name, h.ThumbprintSHA1
	}
	writeResult(w, "AcquireGenericServiceTicketResponse", &types.AcquireGenericServiceTicketResponse{Returnval: t})
}

// anonymousRead reports whether c only reads SessionManager properties, which vCenter allows
// without a session (currentSession is then unset: how clients probe whether a cookie is alive).
func (f *frontend) anonymousRead(c call, body []byte) bool {
	if c.Name != "RetrieveProperties" && c.Name != "RetrievePropertiesEx" {
		return false
	}
	req, err := decodeRequest(body)
	if err != nil {
		return false
	}
	var specs []types.PropertyFilterSpec
	switch req := req.(type) {
	case *types.RetrieveProperties:
		specs = req.SpecSet
	case *types.RetrievePropertiesEx:
		specs = req.SpecSet
	}
	for _, spec := range specs {
		for _, o := range spec.ObjectSet {
			if o.Obj != *f.content.SessionManager || len(o.SelectSet) > 0 {
				return false
			}
		}
	}
	return len(specs) > 0
}

// forwardThen passes a call to vcsim and, if it succeeded, runs after before the client sees the
// answer (so bookkeeping such as dropping a session's disables is done when the call returns).
func (f *frontend) forwardThen(w http.ResponseWriter, r *http.Request, after func(*httptest.ResponseRecorder)) {
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		after(rec)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// login lets only the two configured users in, then records the session vcsim creates.
func (f *frontend) login(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		f.next.ServeHTTP(w, r)
		return
	}
	login := req.(*types.Login)
	if !f.users.valid(login.UserName, login.Password) {
		writeFault(w, &types.InvalidLogin{}, "Cannot complete login due to an incorrect user name or password.")
		return
	}
	f.forwardThen(w, r, func(rec *httptest.ResponseRecorder) {
		for _, cookie := range rec.Result().Cookies() {
			if cookie.Name == soap.SessionCookieName {
				f.sessions.add(cookie.Value, login.UserName)
			}
		}
	})
}

// methodControl answers DisableMethods / EnableMethods (DESIGN.md points 1, 2, 6, 7).
func (f *frontend) methodControl(w http.ResponseWriter, c call, sess *sdkSession, body []byte) {
	if f.esx || c.This != *f.content.AuthorizationManager {
		writeFault(w, &types.MethodNotFound{Receiver: c.This, Method: c.Name},
			"Method %s not found on %s:%s", c.Name, c.This.Type, c.This.Value)
		return
	}
	privilege := privDisableMethods
	if c.Name == "EnableMethods" {
		privilege = privEnableMethods
	}
	if !f.users.granted(sess.user, privilege) {
		writeFault(w, &types.NoPermission{Object: f.content.RootFolder, PrivilegeId: privilege},
			"Permission to perform this operation was denied.")
		return
	}

	req, err := decodeRequest(body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return
	}

	var fault types.BaseMethodFault
	switch req := req.(type) {
	case *disableMethodsRequest:
		scoped := req.SessionScope != nil && *req.SessionScope
		fault = f.disables.disable(sess.key, req.Entity, req.Method, req.SourceId, scoped)
	case *enableMethodsRequest:
		fault = f.disables.enable(req.Entity, req.Method, req.SourceId)
	}

	switch fault := fault.(type) {
	case nil:
		writeResult(w, c.Name+"Response", nil)
	case *types.MethodAlreadyDisabledFault:
		writeFault(w, fault, "The method is already disabled by '%s'", fault.SourceId)
	case *types.ManagedObjectNotFound:
		writeFault(w, fault, "The object '%s:%s' has already been deleted or has not been completely created",
			fault.Obj.Type, fault.Obj.Value)
	default:
		writeFault(w, fault, "%s", faultName(fault))
	}
}

// hasPrivilege answers HasPrivilegeOnEntities for the user of the session named in the request.
func (f *frontend) hasPrivilege(w http.ResponseWriter, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return
	}
	q := req.(*types.HasPrivilegeOnEntities)
	target := f.sessions.get(q.SessionId)
	if target == nil {
		writeFault(w, &types.InvalidArgument{InvalidProperty: "sessionId"}, "A specified parameter was not correct: sessionId")
		return
	}
	writeResult(w, "HasPrivilegeOnEntitiesResponse",
		&types.HasPrivilegeOnEntitiesResponse{Returnval: f.users.privileges(target.user, q.Entity, q.PrivId)})
}

// relocateVM starts a timed relocation (see svmotion.go) and answers with its task.
func (f *frontend) relocateVM(w http.ResponseWriter, body []byte) {
	req, err := decodeRequest(body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return
	}
	q := req.(*types.RelocateVM_Task)
	task, fault := f.mover.start(q.This, q.Spec, q.Priority, f.relocate)
	if fault != nil {
		writeFault(w, fault, "%s", faultName(fault))
		return
	}
	writeResult(w, "RelocateVM_TaskResponse", &types.RelocateVM_TaskResponse{Returnval: task})
}
