//! Linux errno values and their `strerror` texts (glibc's wording).

use std::fmt;

macro_rules! errnos {
    ($($name:ident = $val:expr, $text:expr;)*) => {
        /// A Linux errno, with Linux's number (asm-generic/errno*.h).
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum Errno { $($name = $val,)* }

        impl Errno {
            /// Every errno the stack can report.
            pub const ALL: &'static [Errno] = &[$(Errno::$name,)*];

            /// The symbolic name, `ECONNRESET`.
            pub fn name(self) -> &'static str {
                match self { $(Errno::$name => stringify!($name),)* }
            }

            /// glibc's `strerror()` text, `Connection reset by peer`.
            pub fn text(self) -> &'static str {
                match self { $(Errno::$name => $text,)* }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    EBADF = 9, "Bad file descriptor";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EINVAL = 22, "Invalid argument";
    EMFILE = 24, "Too many open files";
    ENOSPC = 28, "No space left on device";
    EPIPE = 32, "Broken pipe";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    EPROTO = 71, "Protocol error";
}

impl Errno {
    /// The errno with this Linux number, if the stack knows it.
    pub fn from_raw(n: i32) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|e| *e as i32 == n)
    }

    /// Looks an errno up by its symbolic name (`"ETIMEDOUT"`).
    pub fn from_name(name: &str) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|e| e.name() == name)
    }
}

/// `ETIMEDOUT (Connection timed out)`, as packetdrill and strace print it.
impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.text())
    }
}

impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_texts_are_linux() {
        assert_eq!(Errno::ETIMEDOUT as i32, 110);
        assert_eq!(Errno::ECONNRESET as i32, 104);
        assert_eq!(Errno::EAGAIN as i32, 11);
        assert_eq!(Errno::from_raw(111), Some(Errno::ECONNREFUSED));
        assert_eq!(Errno::EPIPE.to_string(), "EPIPE (Broken pipe)");
        assert_eq!(Errno::from_name("EINPROGRESS"), Some(Errno::EINPROGRESS));
    }
}
