//! The call's media as the server says it flows: the mesh ([`Mesh`]) while the call's topology
//! is `peer`, the SFU ([`SfuMedia`]) while it is `sfu`, and nothing while it is not known (or
//! the page is not in the call). When the topology changes (`network-connection`), the one
//! running is closed and the other started, for everyone in the call at once; the tiles keep
//! reading the same [`RemoteMedia`].

use std::{cell::RefCell, rc::Rc};

use leptos::prelude::*;

use super::{LocalMedia, RemoteMedia, mesh::Mesh, sfu::SfuMedia};
use crate::{call::CallClient, model::Topology};

/// What runs now.
enum Running {
    Mesh(Rc<Mesh>),
    Sfu(Rc<SfuMedia>),
}

impl Running {
    fn close(&self) {
        match self {
            Self::Mesh(mesh) => mesh.close(),
            Self::Sfu(sfu) => sfu.close(),
        }
    }
}

/// The call's media for as long as the call view lives; close it when leaving.
pub struct Session {
    running: RefCell<Option<Running>>,
}

impl Session {
    /// Runs the mesh or the SFU by the call's topology, switching when it changes.
    pub fn start(call: CallClient, local: LocalMedia, remote: RemoteMedia) -> Rc<Self> {
        let session = Rc::new(Self {
            running: RefCell::new(None),
        });
        let topology = Memo::new(move |_| call.model.with(|model| model.topology.topology));
        let weak = Rc::downgrade(&session);
        // What the mesh or the SFU sets up in the reactive system (effects, timers) belongs to
        // this effect's run, and is cleaned up when the topology changes.
        Effect::new(move |_| {
            let topology = topology.get();
            let Some(session) = weak.upgrade() else {
                return;
            };
            if let Some(running) = session.running.borrow_mut().take() {
                running.close();
            }
            let next = match topology {
                Topology::None => None,
                Topology::Peer => Some(Running::Mesh(Mesh::start(call, local, remote))),
                Topology::Sfu => Some(Running::Sfu(SfuMedia::start(call, local, remote))),
            };
            *session.running.borrow_mut() = next;
        });
        session
    }

    /// Closes whatever runs.
    pub fn close(&self) {
        if let Some(running) = self.running.borrow_mut().take() {
            running.close();
        }
    }
}
