//! The control plane for state machines: create, update, describe, delete, versions, aliases,
//! tags and definition validation, with AWS's rules and errors.

use ironstep_asl::{CompileOptions, Diagnostic, StateMachineType, invalid_definition_message};
use ironstep_store::{AliasRecord, StateMachineRecord, VersionRecord};
use serde_json::Value;

use crate::arn::{self, MachineRef};
use crate::error::{ErrorCode, ServiceError, ServiceResult};
use crate::{Engine, Millis};

/// CreateStateMachine.
#[derive(Debug, Clone, Default)]
pub struct CreateStateMachine {
    /// `name`.
    pub name: String,
    /// `definition`.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type` (`STANDARD` default).
    pub machine_type: Option<String>,
    /// `loggingConfiguration`.
    pub logging_configuration: Option<Value>,
    /// `tracingConfiguration`.
    pub tracing_configuration: Option<Value>,
    /// `encryptionConfiguration`.
    pub encryption_configuration: Option<Value>,
    /// `tags`.
    pub tags: Vec<(String, String)>,
    /// `publish`.
    pub publish: bool,
    /// `versionDescription`.
    pub version_description: Option<String>,
}

/// What CreateStateMachine returns.
#[derive(Debug, Clone)]
pub struct Created {
    /// `stateMachineArn`.
    pub arn: String,
    /// `creationDate`.
    pub creation_date: Millis,
    /// `stateMachineVersionArn` when published.
    pub version_arn: Option<String>,
}

/// UpdateStateMachine.
#[derive(Debug, Clone, Default)]
pub struct UpdateStateMachine {
    /// `stateMachineArn`.
    pub arn: String,
    /// `definition`.
    pub definition: Option<String>,
    /// `roleArn`.
    pub role_arn: Option<String>,
    /// `loggingConfiguration`.
    pub logging_configuration: Option<Value>,
    /// `tracingConfiguration`.
    pub tracing_configuration: Option<Value>,
    /// `encryptionConfiguration`.
    pub encryption_configuration: Option<Value>,
    /// `publish`.
    pub publish: bool,
    /// `versionDescription`.
    pub version_description: Option<String>,
}

/// What UpdateStateMachine returns.
#[derive(Debug, Clone)]
pub struct Updated {
    /// `updateDate`.
    pub update_date: Millis,
    /// `revisionId`.
    pub revision_id: String,
    /// `stateMachineVersionArn` when published.
    pub version_arn: Option<String>,
}

/// A resolved state machine, as DescribeStateMachine shows it (versions included).
#[derive(Debug, Clone)]
pub struct MachineView {
    /// The record of the (unqualified) machine.
    pub record: StateMachineRecord,
    /// For a version ARN: the version.
    pub version: Option<VersionRecord>,
}

fn machine_type(t: Option<&str>) -> ServiceResult<(&'static str, bool)> {
    match t {
        None | Some("STANDARD") => Ok(("STANDARD", false)),
        Some("EXPRESS") => Ok(("EXPRESS", true)),
        Some(other) => Err(ServiceError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            ),
        )),
    }
}

fn check_role(role: &str) -> ServiceResult<()> {
    if role.starts_with("arn:") && role.split(':').count() >= 6 {
        Ok(())
    } else {
        Err(ServiceError::new(
            ErrorCode::InvalidArn,
            format!("Invalid Arn: 'Invalid ARN prefix: {role}'"),
        ))
    }
}

fn revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Engine {
    /// Diagnostics for a definition (ValidateStateMachineDefinition, `ironstep validate`).
    pub fn validate_definition(&self, definition: &str, express: bool) -> Vec<Diagnostic> {
        ironstep_asl::validate(
            definition,
            &CompileOptions {
                machine_type: if express {
                    StateMachineType::Express
                } else {
                    StateMachineType::Standard
                },
            },
        )
    }

    fn check_definition(&self, definition: &str, express: bool) -> ServiceResult<()> {
        self.compile(definition, express).map(|_| ()).map_err(|d| {
            ServiceError::new(ErrorCode::InvalidDefinition, invalid_definition_message(&d))
        })
    }

    /// CreateStateMachine. Idempotent: the same name, definition and configuration return the
    /// existing machine; a different one is `StateMachineAlreadyExists`.
    pub async fn create_state_machine(&self, req: CreateStateMachine) -> ServiceResult<Created> {
        arn::check_name(&req.name)?;
        let (type_name, express) = machine_type(req.machine_type.as_deref())?;
        check_role(&req.role_arn)?;
        if req.version_description.is_some() && !req.publish {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "Version description can only be set when publish is true",
            ));
        }
        check_tags(&req.tags)?;
        self.check_definition(&req.definition, express)?;
        let arn = self.inner.config.partition.state_machine(&req.name);
        let store = &self.inner.store;
        if let Some(existing) = store.get_state_machine(&arn).await? {
            if existing.status == "DELETING" {
                return Err(ServiceError::new(
                    ErrorCode::StateMachineDeleting,
                    format!("State machine is being deleted: '{arn}'"),
                ));
            }
            let same = existing.definition == req.definition
                && existing.machine_type == type_name
                && existing.logging_configuration
                    == req
                        .logging_configuration
                        .clone()
                        .or(existing.logging_configuration.clone())
                && existing.tracing_configuration
                    == req
                        .tracing_configuration
                        .clone()
                        .or(existing.tracing_configuration.clone());
            if same {
                let version_arn = if req.publish {
                    Some(
                        self.publish(&existing, req.version_description.clone())
                            .await?,
                    )
                } else {
                    None
                };
                return Ok(Created {
                    arn,
                    creation_date: existing.creation_date,
                    version_arn,
                });
            }
            return Err(ServiceError::new(
                ErrorCode::StateMachineAlreadyExists,
                format!("State Machine Already Exists: '{arn}'"),
            ));
        }
        let now = self.now();
        let rec = StateMachineRecord {
            arn: arn.clone(),
            name: req.name.clone(),
            machine_type: type_name.into(),
            definition: req.definition,
            role_arn: req.role_arn,
            logging_configuration: req.logging_configuration,
            tracing_configuration: req.tracing_configuration,
            encryption_configuration: req.encryption_configuration,
            creation_date: now,
            update_date: now,
            revision_id: revision_id(),
            status: "ACTIVE".into(),
            description: req.version_description.clone(),
            next_version: 1,
        };
        match store.create_state_machine(rec.clone()).await {
            Ok(()) => {}
            Err(ironstep_store::StoreError::AlreadyExists(_)) => {
                return Err(ServiceError::new(
                    ErrorCode::StateMachineAlreadyExists,
                    format!("State Machine Already Exists: '{arn}'"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        if !req.tags.is_empty() {
            store.set_tags(&arn, req.tags).await?;
        }
        let version_arn = if req.publish {
            Some(self.publish(&rec, req.version_description).await?)
        } else {
            None
        };
        Ok(Created {
            arn,
            creation_date: now,
            version_arn,
        })
    }

    /// Publish the current revision as a new version (or return the version already published
    /// from this revision).
    async fn publish(
        &self,
        rec: &StateMachineRecord,
        description: Option<String>,
    ) -> ServiceResult<String> {
        let store = &self.inner.store;
        let versions = store.list_versions(&rec.arn).await?;
        if let Some(v) = versions.iter().find(|v| v.revision_id == rec.revision_id) {
            return Ok(v.arn.clone());
        }
        if versions.len() >= 1000 {
            return Err(ServiceError::new(
                ErrorCode::ServiceQuotaExceededException,
                "The maximum number of versions (1000) for this state machine has been reached",
            ));
        }
        let mut rec = store
            .get_state_machine(&rec.arn)
            .await?
            .unwrap_or_else(|| rec.clone());
        let n = rec
            .next_version
            .max(versions.first().map(|v| v.version + 1).unwrap_or(1));
        let arn = format!("{}:{n}", rec.arn);
        store
            .put_version(VersionRecord {
                arn: arn.clone(),
                state_machine_arn: rec.arn.clone(),
                version: n,
                definition: rec.definition.clone(),
                role_arn: rec.role_arn.clone(),
                revision_id: rec.revision_id.clone(),
                description,
                creation_date: self.now(),
            })
            .await?;
        rec.next_version = n + 1;
        store.update_state_machine(rec).await?;
        Ok(arn)
    }

    /// The unqualified machine, or StateMachineDoesNotExist.
    pub async fn machine(&self, arn: &str) -> ServiceResult<StateMachineRecord> {
        match self.inner.store.get_state_machine(arn).await? {
            Some(m) => Ok(m),
            None => Err(ServiceError::new(
                ErrorCode::StateMachineDoesNotExist,
                format!("State Machine Does Not Exist: '{arn}'"),
            )),
        }
    }

    /// DescribeStateMachine (unqualified or version ARN; an alias ARN describes its machine).
    pub async fn describe_state_machine(&self, arn: &str) -> ServiceResult<MachineView> {
        let r = arn::state_machine_ref(arn)?;
        let record = self.machine(r.machine()).await.map_err(|_| {
            ServiceError::new(
                ErrorCode::StateMachineDoesNotExist,
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })?;
        let version = match &r {
            MachineRef::Version { .. } => match self.inner.store.get_version(arn).await? {
                Some(v) => Some(v),
                None => {
                    return Err(ServiceError::new(
                        ErrorCode::StateMachineDoesNotExist,
                        format!("State Machine Does Not Exist: '{arn}'"),
                    ));
                }
            },
            _ => None,
        };
        Ok(MachineView { record, version })
    }

    /// UpdateStateMachine.
    pub async fn update_state_machine(&self, req: UpdateStateMachine) -> ServiceResult<Updated> {
        let r = arn::state_machine_ref(&req.arn)?;
        if !matches!(r, MachineRef::Unqualified(_)) {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "Service does not support updating state machine versions or aliases",
            ));
        }
        if req.definition.is_none()
            && req.role_arn.is_none()
            && req.logging_configuration.is_none()
            && req.tracing_configuration.is_none()
            && req.encryption_configuration.is_none()
            && !req.publish
        {
            return Err(ServiceError::new(
                ErrorCode::MissingRequiredParameter,
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        if req.version_description.is_some() && !req.publish {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "Version description can only be set when publish is true",
            ));
        }
        let mut rec = self.machine(&req.arn).await?;
        if rec.status == "DELETING" {
            return Err(ServiceError::new(
                ErrorCode::StateMachineDeleting,
                format!("State machine is being deleted: '{}'", req.arn),
            ));
        }
        let express = rec.machine_type == "EXPRESS";
        let mut changed = false;
        if let Some(d) = req.definition {
            self.check_definition(&d, express)?;
            changed |= d != rec.definition;
            rec.definition = d;
        }
        if let Some(role) = req.role_arn {
            check_role(&role)?;
            changed |= role != rec.role_arn;
            rec.role_arn = role;
        }
        if let Some(l) = req.logging_configuration {
            changed |= Some(&l) != rec.logging_configuration.as_ref();
            rec.logging_configuration = Some(l);
        }
        if let Some(t) = req.tracing_configuration {
            changed |= Some(&t) != rec.tracing_configuration.as_ref();
            rec.tracing_configuration = Some(t);
        }
        if let Some(e) = req.encryption_configuration {
            rec.encryption_configuration = Some(e);
        }
        if changed {
            rec.revision_id = revision_id();
            rec.update_date = self.now();
            rec.description = req.version_description.clone();
        }
        self.inner.store.update_state_machine(rec.clone()).await?;
        let version_arn = if req.publish {
            Some(self.publish(&rec, req.version_description).await?)
        } else {
            None
        };
        Ok(Updated {
            update_date: rec.update_date,
            revision_id: rec.revision_id,
            version_arn,
        })
    }

    /// DeleteStateMachine. Running executions keep running on their captured definition.
    pub async fn delete_state_machine(&self, arn: &str) -> ServiceResult<()> {
        let r = arn::state_machine_ref(arn)?;
        match r {
            MachineRef::Unqualified(m) => {
                self.inner.store.delete_state_machine(&m).await?;
                Ok(())
            }
            _ => Err(ServiceError::new(
                ErrorCode::ValidationException,
                "Service does not support deleting state machine versions or aliases with this operation",
            )),
        }
    }

    /// ListStateMachines page: machines after `after`, at most `limit`.
    pub async fn list_state_machines(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> ServiceResult<Vec<StateMachineRecord>> {
        Ok(self.inner.store.list_state_machines(after, limit).await?)
    }

    /// PublishStateMachineVersion.
    pub async fn publish_version(
        &self,
        arn: &str,
        revision_id: Option<&str>,
        description: Option<String>,
    ) -> ServiceResult<VersionRecord> {
        let r = arn::state_machine_ref(arn)?;
        let rec = self.machine(r.machine()).await?;
        if let Some(rid) = revision_id {
            let matches = rid == rec.revision_id
                || (rid == "INITIAL" && rec.creation_date == rec.update_date);
            if !matches {
                return Err(ServiceError::new(
                    ErrorCode::ConflictException,
                    format!(
                        "Failed to publish the State Machine version for revision {rid}. The current State Machine revision is {}.",
                        rec.revision_id
                    ),
                ));
            }
        }
        let varn = self.publish(&rec, description).await?;
        self.inner
            .store
            .get_version(&varn)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::ServiceFailure, "version vanished"))
    }

    /// ListStateMachineVersions.
    pub async fn list_versions(&self, arn: &str) -> ServiceResult<Vec<VersionRecord>> {
        let r = arn::state_machine_ref(arn)?;
        if !matches!(r, MachineRef::Unqualified(_)) {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "The state machine ARN must not be qualified",
            ));
        }
        Ok(self.inner.store.list_versions(r.machine()).await?)
    }

    /// DeleteStateMachineVersion (refused while an alias routes to it).
    pub async fn delete_version(&self, arn: &str) -> ServiceResult<()> {
        let r = arn::state_machine_ref(arn)?;
        let MachineRef::Version { machine, .. } = &r else {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("Invalid version ARN: '{arn}'"),
            ));
        };
        let aliases = self.inner.store.list_aliases(machine).await?;
        if let Some(a) = aliases
            .iter()
            .find(|a| a.routing.iter().any(|(v, _)| v == arn))
        {
            return Err(ServiceError::new(
                ErrorCode::ConflictException,
                format!(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                    a.name
                ),
            ));
        }
        self.inner.store.delete_version(arn).await?;
        Ok(())
    }

    async fn check_routing(&self, machine: &str, routing: &[(String, u32)]) -> ServiceResult<()> {
        let total: u32 = routing.iter().map(|(_, w)| *w).sum();
        if routing.is_empty() || routing.len() > 2 || total != 100 {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                "Routing configuration must contain one or two versions whose weights sum to 100",
            ));
        }
        for (v, _) in routing {
            let r = arn::state_machine_ref(v)?;
            if !matches!(r, MachineRef::Version { .. }) || r.machine() != machine {
                return Err(ServiceError::new(
                    ErrorCode::ValidationException,
                    format!("Invalid version ARN in routing configuration: '{v}'"),
                ));
            }
            if self.inner.store.get_version(v).await?.is_none() {
                return Err(ServiceError::new(
                    ErrorCode::ResourceNotFound,
                    format!("Resource not found: '{v}'"),
                ));
            }
        }
        Ok(())
    }

    /// CreateStateMachineAlias.
    pub async fn create_alias(
        &self,
        name: &str,
        description: Option<String>,
        routing: Vec<(String, u32)>,
    ) -> ServiceResult<AliasRecord> {
        // Alias names are checked by the model's pattern: a ValidationException, not InvalidName.
        arn::check_name(name)
            .map_err(|e| ServiceError::new(ErrorCode::ValidationException, e.message))?;
        if name.chars().all(|c| c.is_ascii_digit()) {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("Invalid alias name: '{name}' must not be only digits"),
            ));
        }
        let first = routing.first().map(|(v, _)| v.clone()).unwrap_or_default();
        let machine = arn::state_machine_ref(&first)
            .map(|r| r.machine().to_string())
            .map_err(|_| {
                ServiceError::new(
                    ErrorCode::ValidationException,
                    "Routing configuration must name versions",
                )
            })?;
        self.machine(&machine)
            .await
            .map_err(|e| ServiceError::new(ErrorCode::ResourceNotFound, e.message))?;
        self.check_routing(&machine, &routing).await?;
        let alias_arn = format!("{machine}:{name}");
        if let Some(existing) = self.inner.store.get_alias(&alias_arn).await? {
            if existing.routing == routing && existing.description == description {
                return Ok(existing);
            }
            return Err(ServiceError::new(
                ErrorCode::ConflictException,
                format!(
                    "Failed to create alias because an alias with the same name and a different routing configuration already exists: '{alias_arn}'"
                ),
            ));
        }
        if self.inner.store.list_aliases(&machine).await?.len() >= 100 {
            return Err(ServiceError::new(
                ErrorCode::ServiceQuotaExceededException,
                "The maximum number of aliases (100) for this state machine has been reached",
            ));
        }
        let now = self.now();
        let rec = AliasRecord {
            arn: alias_arn,
            state_machine_arn: machine,
            name: name.to_string(),
            description,
            routing,
            creation_date: now,
            update_date: now,
        };
        self.inner.store.put_alias(rec.clone()).await?;
        Ok(rec)
    }

    /// DescribeStateMachineAlias.
    pub async fn describe_alias(&self, arn: &str) -> ServiceResult<AliasRecord> {
        let r = arn::state_machine_ref(arn)?;
        if !matches!(r, MachineRef::Alias { .. }) {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!("Invalid alias ARN: '{arn}'"),
            ));
        }
        self.inner.store.get_alias(arn).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ResourceNotFound,
                format!("Resource not found: '{arn}'"),
            )
        })
    }

    /// UpdateStateMachineAlias.
    pub async fn update_alias(
        &self,
        arn: &str,
        description: Option<String>,
        routing: Option<Vec<(String, u32)>>,
    ) -> ServiceResult<Millis> {
        let mut rec = self.describe_alias(arn).await?;
        if let Some(routing) = routing {
            self.check_routing(&rec.state_machine_arn, &routing).await?;
            rec.routing = routing;
        }
        if description.is_some() {
            rec.description = description;
        }
        rec.update_date = self.now();
        self.inner.store.put_alias(rec.clone()).await?;
        Ok(rec.update_date)
    }

    /// DeleteStateMachineAlias.
    pub async fn delete_alias(&self, arn: &str) -> ServiceResult<()> {
        self.describe_alias(arn).await?;
        self.inner.store.delete_alias(arn).await?;
        Ok(())
    }

    /// ListStateMachineAliases.
    pub async fn list_aliases(&self, arn: &str) -> ServiceResult<Vec<AliasRecord>> {
        let r = arn::state_machine_ref(arn)?;
        self.machine(r.machine()).await?;
        Ok(self.inner.store.list_aliases(r.machine()).await?)
    }

    /// Resolve a (possibly qualified) machine ARN to the definition and role to run, and the
    /// version/alias ARNs to record.
    pub(crate) async fn resolve_for_start(
        &self,
        arn: &str,
    ) -> ServiceResult<(
        StateMachineRecord,
        String,
        String,
        Option<String>,
        Option<String>,
    )> {
        let r = arn::state_machine_ref(arn)?;
        let rec = self.machine(r.machine()).await.map_err(|_| {
            ServiceError::new(
                ErrorCode::StateMachineDoesNotExist,
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })?;
        if rec.status == "DELETING" {
            return Err(ServiceError::new(
                ErrorCode::StateMachineDeleting,
                format!("State machine is being deleted: '{arn}'"),
            ));
        }
        match r {
            MachineRef::Unqualified(_) => {
                let (d, role) = (rec.definition.clone(), rec.role_arn.clone());
                Ok((rec, d, role, None, None))
            }
            MachineRef::Version { .. } => {
                let v = self.inner.store.get_version(arn).await?.ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::StateMachineDoesNotExist,
                        format!("State Machine Does Not Exist: '{arn}'"),
                    )
                })?;
                Ok((rec, v.definition, v.role_arn, Some(v.arn), None))
            }
            MachineRef::Alias { .. } => {
                let a = self.inner.store.get_alias(arn).await?.ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::StateMachineDoesNotExist,
                        format!("State Machine Does Not Exist: '{arn}'"),
                    )
                })?;
                // Weighted random routing between the alias's versions.
                let roll = (rand::random::<u32>() % 100) + 1;
                let mut acc = 0;
                let mut chosen = a.routing[0].0.clone();
                for (v, w) in &a.routing {
                    acc += w;
                    if roll <= acc {
                        chosen = v.clone();
                        break;
                    }
                }
                let v = self
                    .inner
                    .store
                    .get_version(&chosen)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::new(
                            ErrorCode::StateMachineDoesNotExist,
                            format!("State Machine Does Not Exist: '{chosen}'"),
                        )
                    })?;
                Ok((rec, v.definition, v.role_arn, Some(v.arn), Some(a.arn)))
            }
        }
    }

    // ---- tags -----------------------------------------------------------------------------------

    async fn tag_target_exists(&self, arn: &str) -> ServiceResult<()> {
        let parsed = arn::parse(arn)?;
        let exists = match parsed.resource_type.as_str() {
            "stateMachine" => self.inner.store.get_state_machine(arn).await?.is_some(),
            "activity" => self.inner.store.get_activity(arn).await?.is_some(),
            _ => {
                return Err(ServiceError::new(
                    ErrorCode::InvalidArn,
                    format!(
                        "Invalid Arn: 'Resource type not valid in this context: {}'",
                        parsed.resource_type
                    ),
                ));
            }
        };
        if exists {
            Ok(())
        } else {
            Err(ServiceError::new(
                ErrorCode::ResourceNotFound,
                format!("Resource not found: '{arn}'"),
            ))
        }
    }

    /// TagResource.
    pub async fn tag_resource(&self, arn: &str, tags: Vec<(String, String)>) -> ServiceResult<()> {
        self.tag_target_exists(arn).await?;
        check_tags(&tags)?;
        let mut current = self.inner.store.get_tags(arn).await?;
        for (k, v) in tags {
            match current.iter_mut().find(|(ck, _)| *ck == k) {
                Some(slot) => slot.1 = v,
                None => current.push((k, v)),
            }
        }
        if current.len() > 50 {
            return Err(ServiceError::new(
                ErrorCode::TooManyTags,
                format!("Too many tags: a resource can have at most 50 tags: '{arn}'"),
            ));
        }
        self.inner.store.set_tags(arn, current).await?;
        Ok(())
    }

    /// UntagResource.
    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> ServiceResult<()> {
        self.tag_target_exists(arn).await?;
        let mut current = self.inner.store.get_tags(arn).await?;
        current.retain(|(k, _)| !keys.contains(k));
        self.inner.store.set_tags(arn, current).await?;
        Ok(())
    }

    /// ListTagsForResource.
    pub async fn list_tags(&self, arn: &str) -> ServiceResult<Vec<(String, String)>> {
        self.tag_target_exists(arn).await?;
        Ok(self.inner.store.get_tags(arn).await?)
    }
}

/// Tag keys 1–128 characters, values up to 256, at most 50 tags.
pub(crate) fn check_tags(tags: &[(String, String)]) -> ServiceResult<()> {
    if tags.len() > 50 {
        return Err(ServiceError::new(
            ErrorCode::TooManyTags,
            "Too many tags: a resource can have at most 50 tags",
        ));
    }
    let ok = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || !ok(k) || v.chars().count() > 256 || !ok(v) {
            return Err(ServiceError::new(
                ErrorCode::ValidationException,
                format!(
                    "1 validation error detected: Value '{k}' at 'tags' failed to satisfy constraint: Member must satisfy the tag key and value constraints"
                ),
            ));
        }
    }
    Ok(())
}
