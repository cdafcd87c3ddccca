// <sys/xattr.h>, which Swift's Glibc module leaves out: CredentialFile reads a file's
// POSIX ACL (the system.posix_acl_access attribute) to tell systemd's credential mask
// from group read access.
#include <sys/xattr.h>
