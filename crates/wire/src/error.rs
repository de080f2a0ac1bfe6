//! The one error type of the crate: every parse or emit failure names its reason and the numbers
//! involved, and prints as a sentence.

/// Why a byte string could not be parsed, or a representation could not be emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The input ends before the structure it announces.
    #[error("the packet is truncated: {need} bytes are needed but only {have} are present")]
    Truncated { need: usize, have: usize },
    /// The IP version nibble is neither 4 nor 6 (or not the one the caller asked for).
    #[error("the IP version field is {version}, expected 4 or 6")]
    BadVersion { version: u8 },
    /// The IPv4 header length field is below its minimum of 5 (20 bytes).
    #[error("the IPv4 header length field is {ihl} words, below the minimum of 5")]
    BadIhl { ihl: u8 },
    /// The IPv4 total length is shorter than the IPv4 header itself.
    #[error("the IPv4 total length {total_len} is shorter than its header length {header_len}")]
    BadTotalLength { total_len: u16, header_len: usize },
    /// The TCP data offset field is below its minimum of 5 (20 bytes).
    #[error("the TCP data offset field is {data_offset} words, below the minimum of 5")]
    BadDataOffset { data_offset: u8 },
    /// A TCP option's length byte is below 2 or runs past the end of the TCP header; `offset`
    /// is where the option starts, counted from the first byte of the TCP header.
    #[error(
        "the TCP option of kind {kind} at header byte {offset} has a length that is below 2 \
         or runs past the end of the header"
    )]
    BadOptionLength { kind: u8, offset: usize },
    /// A TCP option's body is too long for its one-byte length field.
    #[error(
        "a TCP option of kind {kind} carries {len} bytes, more than the 253 a length byte allows"
    )]
    OptionTooLong { kind: u8, len: usize },
    /// The TCP options (with padding) do not fit in the 40 bytes a header can carry.
    #[error("the TCP options take {len} bytes, more than the 40 a TCP header can carry")]
    OptionsTooLong { len: usize },
    /// The IPv4 options are not a whole number of 32-bit words or exceed 40 bytes.
    #[error("the IPv4 options take {len} bytes; they must be a multiple of 4 and at most 40")]
    BadIpv4Options { len: usize },
    /// The datagram would exceed the 65535 bytes its length field can express.
    #[error("the datagram would be {len} bytes, more than its 16-bit length field can express")]
    TooLong { len: usize },
    /// The output buffer cannot hold what is to be written.
    #[error("the output buffer holds {have} bytes but {need} are needed")]
    BufferTooSmall { need: usize, have: usize },
    /// The source and destination addresses (or header and addresses) are of different families.
    #[error("the addresses mix IPv4 and IPv6; use two addresses of the same family")]
    FamilyMismatch,
    /// An IPv6 flow label does not fit in its 20 bits.
    #[error("the IPv6 flow label {flow_label:#x} does not fit in 20 bits")]
    BadFlowLabel { flow_label: u32 },
    /// An IPv4 fragment offset does not fit in its 13 bits.
    #[error("the IPv4 fragment offset {frag_offset} does not fit in 13 bits")]
    BadFragOffset { frag_offset: u16 },
}
