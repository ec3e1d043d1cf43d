//! The lab: Linux network namespaces, veth links and kernel routers for end-to-end tests.
