// Concept: the datastore HTTP interface, /folder/<path>?dcPath=&dsName= (remote-disk.md §1), on
// the SDK endpoint and on every host listener: authentication (a live session cookie or Basic on
// vCenter, a single-use generic service ticket anywhere), the lock rules of running VMs, single
// byte ranges, HEAD, and the statuses a real server answers.
//
// Design: GET and HEAD are served here from the datastore's files: 200 with Accept-Ranges: bytes
// and Content-Length, or 206 with Content-Range for one "bytes=a-b" / "a-" / "-n" range; a range
// that starts past the end is 416 with "Content-Range: bytes */size"; several ranges in one
// request are refused with 416 too (whether ESXi serves multipart ranges is unknown; refusing is
// what a client must cope with anyway); a Range header that does not parse is ignored (RFC 9110).
// Missing or bad credentials: 401 (WWW-Authenticate: Basic); a ticket issued for another URL,
// method or server: 403; unknown datacenter, datastore or file: 404; a file a running VM holds:
// lockedStatus with vSphere's "since it is locked" text. A disk file's VM is filled first and its
// disks held still while the body is sent. PUT and POST (uploads) go to vcsim's handler after the
// same checks, except over a VM's disk files (403). dcPath defaults to the only datacenter
// (ha-datacenter in esx mode); host listeners ignore dcPath and serve only the datastores their
// host mounts.

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
)

const folderPrefix = "/folder/"

// ticketCookie is the cookie that carries a generic service ticket.
const ticketCookie = "vmware_cgi_ticket"

type folderServer struct {
	st       *diskStore
	sessions *sessionTable
	users    users
	tickets  *ticketTable
	servers  *serverSet
	stats    *stats
	faults   *faultInjector
	vcsim    http.Handler        // vcsim's mux: uploads and directory listings
	dcs      map[string][]string // datacenter name → its datastores
}

func newFolderServer(st *diskStore, sessions *sessionTable, u users, tickets *ticketTable, servers *serverSet,
	s *stats, faults *faultInjector, vcsim http.Handler) *folderServer {
	fs := &folderServer{st: st, sessions: sessions, users: u, tickets: tickets, servers: servers, stats: s,
		faults: faults, vcsim: vcsim, dcs: map[string][]string{}}
	for _, e := range simulator.Map.All("Datacenter") {
		dc := e.(*simulator.Datacenter)
		simulator.Map.WithLock(dc, func() {
			for _, ref := range dc.Datastore {
				if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
					fs.dcs[dc.Name] = append(fs.dcs[dc.Name], ds.Name)
				}
			}
		})
	}
	return fs
}

// handler serves /folder for host h (the SDK endpoint's front door calls serve itself).
func (fs *folderServer) handler(h *hostServer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.stats.path(r.URL.Path)
		if !strings.HasPrefix(r.URL.Path, folderPrefix) {
			http.NotFound(w, r)
			return
		}
		fs.serve(w, r, h)
	})
}

func (fs *folderServer) serve(w http.ResponseWriter, r *http.Request, h *hostServer) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if d, ok := fs.faults.takeFolderDelay(); ok {
		time.Sleep(d)
	}
	if status, ok := fs.faults.takeFolderStatus(); ok {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if status, why := fs.authorize(r, h); status != http.StatusOK {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="VMware HTTP server"`)
		}
		http.Error(w, why, status)
		return
	}
	ds, ok := fs.datastore(r, h)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, folderPrefix)
	dsPath := "[" + ds + "] " + rel
	local, err := fs.st.local(dsPath)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	_, owned := fs.st.owner(dsPath)
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if owned {
			http.Error(w, "The disk files of a simulated VM cannot be replaced", http.StatusForbidden)
			return
		}
		fs.vcsim.ServeHTTP(w, r)
		return
	}
	if refused, why := fs.st.readRefusal(dsPath); refused {
		http.Error(w, why, lockedStatus)
		return
	}
	unlock, err := fs.st.holdForRead(dsPath)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer unlock()
	f, err := os.Open(local)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if info.IsDir() {
		fs.vcsim.ServeHTTP(w, r) // vcsim's listing
		return
	}
	fs.send(w, r, f, info.Size(), h)
}

// authorize checks a request's credentials: it returns http.StatusOK or the status to answer.
func (fs *folderServer) authorize(r *http.Request, h *hostServer) (int, string) {
	if h == nil {
		if c, err := r.Cookie(soap.SessionCookieName); err == nil && fs.sessions.touch(c.Value) != nil {
			return http.StatusOK, ""
		}
		if user, password, ok := r.BasicAuth(); ok && fs.users.valid(user, password) {
			return http.StatusOK, ""
		}
	}
	c, err := r.Cookie(ticketCookie)
	if err != nil {
		return http.StatusUnauthorized, "Authentication required"
	}
	tk := fs.tickets.take(c.Value)
	if tk != nil && fs.faults.takeStaleTicket() {
		tk = nil // injected: as if used before or lapsed
	}
	switch {
	case tk == nil:
		return http.StatusUnauthorized, "The ticket is unknown, used or expired"
	case !fs.servers.sameServer(tk.server, serverName(h)) || !tk.matches(r):
		return http.StatusForbidden, "The ticket was issued for another request"
	}
	return http.StatusOK, ""
}

// datastore resolves dcPath/dsName for the server (ok false: 404).
func (fs *folderServer) datastore(r *http.Request, h *hostServer) (string, bool) {
	q := r.URL.Query()
	name := q.Get("dsName")
	var candidates []string
	if h != nil {
		for ds := range h.datastores {
			candidates = append(candidates, ds)
		}
	} else {
		dc := q.Get("dcPath")
		if dc == "" {
			if fs.servers.esx {
				dc = "ha-datacenter"
			} else if len(fs.dcs) == 1 {
				for only := range fs.dcs {
					dc = only
				}
			}
		}
		candidates = fs.dcs[strings.Trim(dc, "/")]
	}
	if name == "" && len(candidates) == 1 {
		return candidates[0], true
	}
	for _, ds := range candidates {
		if ds == name {
			return ds, true
		}
	}
	return "", false
}

// send answers GET/HEAD for a file of size bytes, honouring one byte range.
func (fs *folderServer) send(w http.ResponseWriter, r *http.Request, f *os.File, size int64, h *hostServer) {
	hd := w.Header()
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Type", "application/octet-stream")
	start, length, status := int64(0), size, http.StatusOK
	if spec := r.Header.Get("Range"); spec != "" {
		a, b, ok, multi := parseRange(spec, size)
		switch {
		case multi || (ok && a >= size):
			hd.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			http.Error(w, "Requested Range Not Satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return
		case ok:
			start, length, status = a, b-a+1, http.StatusPartialContent
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, size))
		}
	}
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	body := io.Reader(io.NewSectionReader(f, start, length))
	after, drop := fs.faults.takeFolderDrop()
	if drop {
		body = io.LimitReader(body, after)
	}
	n, _ := io.Copy(w, body)
	server := "vcenter"
	if h != nil {
		server = h.Name
	}
	fs.stats.folderBytes(server, path.Clean(r.URL.Path), n)
	if drop && n < length {
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // net/http closes the connection mid-body
	}
}

// parseRange reads a Range header for a file of size bytes: ok with the inclusive range [a, b]
// (a may be >= size: unsatisfiable), multi for several ranges, neither for a header to ignore.
func parseRange(spec string, size int64) (a, b int64, ok, multi bool) {
	if !strings.HasPrefix(spec, "bytes=") {
		return 0, 0, false, false
	}
	spec = strings.TrimSpace(strings.TrimPrefix(spec, "bytes="))
	if strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	dash := strings.IndexByte(spec, '-')
	if dash < 0 {
		return 0, 0, false, false
	}
	first, last := strings.TrimSpace(spec[:dash]), strings.TrimSpace(spec[dash+1:])
	num := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0
	}
	switch {
	case first == "": // the last n bytes
		n, good := num(last)
		if !good {
			return 0, 0, false, false
		}
		if n == 0 {
			return size, size, true, false
		}
		if n > size {
			n = size
		}
		return size - n, size - 1, true, false
	default:
		a, good := num(first)
		if !good {
			return 0, 0, false, false
		}
		b := size - 1
		if last != "" {
			if b, good = num(last); !good || b < a {
				return 0, 0, false, false
			}
			if b >= size {
				b = size - 1
			}
		}
		return a, b, true, false
	}
}
