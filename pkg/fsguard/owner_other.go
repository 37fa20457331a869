//go:build !unix

package fsguard

import "io/fs"

// enforced: without Unix owners and permission bits there is nothing these
// checks could read (Windows protects the profile folders with ACLs).
const enforced = false

// NoFollow is 0 where the system has no O_NOFOLLOW.
const NoFollow = 0

// OwnerUID cannot tell here.
func OwnerUID(fi fs.FileInfo) (int, bool) { return ownerUID(fi) }

func ownerUID(fs.FileInfo) (int, bool) { return -1, false }
