//! A resolved query: the value the oracle evaluates (`oracle.rs`) and the
//! printers write out for both front ends (`printers.rs`).

use serde_json::Number;

use crate::schema::Ent;

/// A literal of a resolved query.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Co,
    Sw,
    Ew,
}

pub const ORDER_OPS: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
pub const ALL_OPS: [Op; 10] = [
    Op::Eq,
    Op::Ne,
    Op::Lt,
    Op::Le,
    Op::Gt,
    Op::Ge,
    Op::Like,
    Op::Co,
    Op::Sw,
    Op::Ew,
];

/// A resolved filter: what the oracle evaluates and the printers print.
#[derive(Clone, Debug)]
pub enum Ex {
    And(Vec<Ex>, u8),
    Or(Vec<Ex>, u8),
    Not(Box<Ex>, u8),
    Cmp {
        path: &'static str,
        op: Op,
        lit: Lit,
        style: u8,
    },
    In {
        path: &'static str,
        lits: Vec<Lit>,
        style: u8,
    },
    Pr(&'static str, u8),
    IsNull(&'static str, u8),
}

/// A resolved query.
#[derive(Clone, Debug)]
pub struct Q {
    pub ent: Ent,
    pub filter: Option<Ex>,
    pub search: Option<String>,
    pub sort: Vec<SortKey>,
    pub fields: Option<Vec<&'static str>>,
    pub paging: Paging,
    pub with_total: bool,
    pub style: u64,
}

#[derive(Clone, Debug)]
pub struct SortKey {
    pub path: &'static str,
    pub desc: bool,
    pub style: u8,
}

/// The page a query asks for (`None`: the parameter is left out).
#[derive(Clone, Copy, Debug)]
pub enum Paging {
    Default,
    Page(Option<u64>, Option<usize>),
    Offset(Option<u64>, Option<usize>),
}

impl Paging {
    /// (offset, size) of the page asked for.
    pub fn window(self) -> (usize, usize) {
        match self {
            Paging::Default => (0, 100),
            Paging::Page(p, s) => {
                let s = s.unwrap_or(100);
                ((p.unwrap_or(1) as usize - 1) * s, s)
            }
            Paging::Offset(o, l) => (o.unwrap_or(0) as usize, l.unwrap_or(100)),
        }
    }
}
