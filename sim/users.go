// Concept: the two users and what they may do — password check at Login, the Global.DisableMethods
// / Global.EnableMethods privileges (NoPermission for the reader), and HasPrivilegeOnEntities.

package main

import (
	"crypto/subtle"

	"github.com/vmware/govmomi/vim25/types"
)

const (
	privDisableMethods = "Global.DisableMethods"
	privEnableMethods  = "Global.EnableMethods"
)

// readOnlyPrivileges is vCenter's ReadOnly role: all the reader is granted.
var readOnlyPrivileges = map[string]bool{
	"System.Anonymous": true,
	"System.View":      true,
	"System.Read":      true,
}

// users holds the privileged account (the Admin role on the root folder) and the read-only one.
type users struct {
	admin, adminPassword   string
	reader, readerPassword string
}

// valid reports whether a Login with these credentials succeeds; nobody else may log in.
func (u users) valid(user, password string) bool {
	switch user {
	case u.admin:
		return equal(password, u.adminPassword)
	case u.reader:
		return equal(password, u.readerPassword)
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// granted reports whether user holds privilege on the inventory (both roles apply to the root).
func (u users) granted(user, privilege string) bool {
	if user == u.admin {
		return true
	}
	return readOnlyPrivileges[privilege]
}

// privileges answers HasPrivilegeOnEntities for user.
func (u users) privileges(user string, entities []types.ManagedObjectReference, privIds []string) []types.EntityPrivilege {
	out := make([]types.EntityPrivilege, 0, len(entities))
	for _, e := range entities {
		p := types.EntityPrivilege{Entity: e}
		for _, id := range privIds {
			p.PrivAvailability = append(p.PrivAvailability, types.PrivilegeAvailability{PrivId: id, IsGranted: u.granted(user, id)})
		}
		out = append(out, p)
	}
	return out
}
