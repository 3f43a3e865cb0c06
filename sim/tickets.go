// Concept: generic service tickets — SessionManager.AcquireGenericServiceTicket issues a real,
// checked, single-use ticket for one URL and HTTP method, bound to the server the URL names (a
// host's own listener, or vCenter itself); /folder takes it once, as cookie vmware_cgi_ticket,
// for exactly that URL and method (remote-disk.md §1).
//
// Design: a ticket records the server, the URL's path and dsName (dcPath is not part of the
// match: govmomi drops it for hosts) and the method ("" accepts any). Taking a ticket removes it,
// whether or not the request it came with matches, so a ticket is never good twice; unused
// tickets lapse after ticketLifetime.

package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// httpMethods maps SessionManagerHttpServiceRequestSpecMethod values to HTTP methods.
var httpMethods = map[string]string{
	"httpOptions": http.MethodOptions, "httpGet": http.MethodGet, "httpHead": http.MethodHead,
	"httpPost": http.MethodPost, "httpPut": http.MethodPut, "httpDelete": http.MethodDelete,
	"httpTrace": http.MethodTrace, "httpConnect": http.MethodConnect,
}

type serviceTicket struct {
	server  string // host name, or "" for the SDK endpoint (vCenter itself)
	path    string // cleaned, unescaped URL path
	dsName  string
	method  string // HTTP method, "" for any
	expires time.Time
}

type ticketTable struct {
	mu   sync.Mutex
	byID map[string]*serviceTicket
}

func newTicketTable() *ticketTable {
	return &ticketTable{byID: map[string]*serviceTicket{}}
}

// issue records a ticket for (server, u, method) and returns its id.
func (t *ticketTable) issue(server string, u *url.URL, method string) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	id := "cst-" + hex.EncodeToString(b[:])
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, tk := range t.byID {
		if now.After(tk.expires) {
			delete(t.byID, k)
		}
	}
	t.byID[id] = &serviceTicket{server: server, path: cleanURLPath(u.Path), dsName: u.Query().Get("dsName"),
		method: method, expires: now.Add(ticketLifetime)}
	return id
}

// take removes the ticket id and returns it (nil: unknown, used or lapsed).
func (t *ticketTable) take(id string) *serviceTicket {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk := t.byID[id]
	delete(t.byID, id)
	if tk == nil || time.Now().After(tk.expires) {
		return nil
	}
	return tk
}

// matches reports whether the ticket was issued for this request's URL and method.
func (tk *serviceTicket) matches(r *http.Request) bool {
	return tk.path == cleanURLPath(r.URL.Path) &&
		tk.dsName == r.URL.Query().Get("dsName") && (tk.method == "" || tk.method == r.Method)
}

func cleanURLPath(p string) string {
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
