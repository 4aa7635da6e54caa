//! The notice workflow of [`LoopService`]: drafting, issuing, acting on, rectifying and verifying notices.

use super::*;

impl LoopService {
    /// An analyst drafts a notice to `org` for `findings` (all must belong to `org`'s subtree); severity
    /// and incident level come from the findings and the policy.
    pub async fn draft_notice(
        &self,
        caller: &Caller,
        org: OrgId,
        findings: Vec<Uuid>,
        title: &str,
        required_actions: Vec<String>,
    ) -> LoopResult<Notice> {
        self.analyst_only(caller, "draft notices")?;
        let tree = self.tree().await?;
        if tree.get(org).is_none() || !self.check_scope(&tree, caller, org) {
            return Err(StoreError::NotFound {
                entity: "org",
                key: org.to_string(),
            }
            .into());
        }
        if findings.is_empty() || title.trim().is_empty() {
            return Err(LoopError::Invalid(
                "a notice needs a title and at least one finding".into(),
            ));
        }
        let mut severity = Severity::Info;
        let mut level = IncidentLevel::General;
        for id in &findings {
            let f = self.store.get_finding(*id).await?;
            if !tree.covers(org, f.org) {
                return Err(LoopError::Invalid(format!(
                    "finding {id} belongs to another organisation"
                )));
            }
            severity = severity.max(f.severity);
            let crit = self.criticality(f.asset).await;
            level = level.max(self.policy().levels.level(f.severity, crit, f.exploited));
        }
        let now = self.clock.now();
        let draft = Notice {
            id: Uuid::new_v4(),
            number: NoticeNumber { year: 0, seq: 1 },
            org,
            findings,
            title: title.trim().to_owned(),
            severity,
            level,
            required_actions,
            state: NoticeState::Draft,
            created_by: caller.actor.actor.clone(),
            created_at: now,
            issued_at: None,
            ack_due: None,
            rectify_due: None,
            acknowledged_at: None,
            submitted_at: None,
            closed_at: None,
            returns: 0,
            escalations: Vec::new(),
            history: Vec::new(),
        };
        let year = self.policy().calendar.date_of(now).year();
        let audit = LoopAudit {
            actor: caller.actor.actor.clone(),
            action: "notice.create".into(),
            comment: String::new(),
        };
        Ok(self.store.create_notice(draft, year, audit).await?)
    }

    pub(super) async fn scoped_notice(
        &self,
        tree: &OrgTree,
        caller: &Caller,
        id: Uuid,
    ) -> LoopResult<Notice> {
        let n = self.store.get_notice(id).await?;
        if !self.check_scope(tree, caller, n.org) {
            return Err(StoreError::NotFound {
                entity: "notice",
                key: id.to_string(),
            }
            .into());
        }
        Ok(n)
    }

    /// Issues a draft: deadlines from the policy (severity, exploited-and-exposed, org tier).
    pub async fn issue(&self, caller: &Caller, id: Uuid, comment: &str) -> LoopResult<Notice> {
        let tree = self.tree().await?;
        let n = self.scoped_notice(&tree, caller, id).await?;
        let mut ee = false;
        for f in &n.findings {
            let f = self.store.get_finding(*f).await?;
            ee |= f.exploited && f.internet_exposed;
        }
        let basis = DeadlineBasis {
            severity: n.severity,
            exploited_exposed: ee,
            tier: tree.tier(n.org),
        };
        let (ack_due, rectify_due) = self.policy().deadlines(self.clock.now(), basis);
        self.transition(
            &tree,
            caller,
            n,
            NoticeAction::Issue {
                ack_due,
                rectify_due,
            },
            comment,
        )
        .await
    }

    /// Acknowledge, start verification, close, return or cancel (issue with [`LoopService::issue`],
    /// submit with [`LoopService::submit_rectification`]).
    pub async fn act(
        &self,
        caller: &Caller,
        id: Uuid,
        action: NoticeAction,
        comment: &str,
    ) -> LoopResult<Notice> {
        if matches!(
            action,
            NoticeAction::Issue { .. } | NoticeAction::SubmitRectification { .. }
        ) {
            return Err(LoopError::Invalid(
                "use issue() or submit_rectification()".into(),
            ));
        }
        let tree = self.tree().await?;
        let n = self.scoped_notice(&tree, caller, id).await?;
        let closing = matches!(action, NoticeAction::Close);
        let n = self.transition(&tree, caller, n, action, comment).await?;
        if closing {
            self.resolve_findings(&n, Resolution::VerifiedFix, &caller.actor)
                .await?;
        }
        Ok(n)
    }

    async fn transition(
        &self,
        tree: &OrgTree,
        caller: &Caller,
        mut n: Notice,
        action: NoticeAction,
        comment: &str,
    ) -> LoopResult<Notice> {
        let covers = self.check_scope(tree, caller, n.org);
        let event = match &action {
            NoticeAction::Issue { .. } => Some(LoopEventKind::Issued),
            NoticeAction::Return { reason } => Some(LoopEventKind::Returned {
                reason: reason.clone(),
            }),
            NoticeAction::Close => Some(LoopEventKind::Closed),
            _ => None,
        };
        let name = action.as_str();
        n.apply(&caller.actor, covers, action, self.clock.now(), comment)?;
        let audit = LoopAudit {
            actor: caller.actor.actor.clone(),
            action: format!("notice.{name}"),
            comment: n
                .history
                .last()
                .map(|h| h.comment.clone())
                .unwrap_or_default(),
        };
        self.store.save_notice(&n, Some(audit)).await?;
        if let Some(kind) = event {
            let ev = LoopEvent {
                notice: n.id,
                to_org: n.org,
                at: self.clock.now(),
                kind,
            };
            self.notify(tree, &n, &[ev]).await?;
        }
        Ok(n)
    }

    async fn resolve_findings(
        &self,
        n: &Notice,
        how: Resolution,
        actor: &LoopActor,
    ) -> LoopResult<()> {
        let now = self.clock.now();
        for id in &n.findings {
            let mut f = self.store.get_finding(*id).await?;
            if f.status == taishi_model::finding::FindingStatus::Open {
                f.resolve(now, Some(actor.actor.to_string()), how);
                self.store.put_finding(&f, None).await?;
            }
        }
        Ok(())
    }

    /// The organisation submits its rectification with attachments (`(file name, bytes)`); taishi then
    /// re-verifies at once when it can: all fixed closes the notice, still present returns it with the new
    /// evidence; detections (or no re-verifier) wait in `verifying` for an analyst.
    pub async fn submit_rectification(
        &self,
        caller: &Caller,
        id: Uuid,
        description: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> LoopResult<Notice> {
        if description.trim().is_empty() {
            return Err(LoopError::Invalid("describe what was done".into()));
        }
        let metas = check_attachments(&self.attachments, &files)?;
        let tree = self.tree().await?;
        let n = self.scoped_notice(&tree, caller, id).await?;
        let r = Rectification {
            id: Uuid::new_v4(),
            notice: n.id,
            org: n.org,
            submitted_by: caller.actor.actor.clone(),
            submitted_at: self.clock.now(),
            description: description.trim().to_owned(),
            attachments: metas,
        };
        // Check the transition before storing anything.
        let mut probe = n.clone();
        probe.apply(
            &caller.actor,
            self.check_scope(&tree, caller, n.org),
            NoticeAction::SubmitRectification {
                rectification: r.id,
            },
            self.clock.now(),
            "",
        )?;
        self.store
            .add_rectification(&r, files.into_iter().map(|(_, d)| d).collect())
            .await?;
        let n = self
            .transition(
                &tree,
                caller,
                n,
                NoticeAction::SubmitRectification {
                    rectification: r.id,
                },
                description,
            )
            .await?;
        self.reverify(&tree, n).await
    }

    async fn reverify(&self, tree: &OrgTree, n: Notice) -> LoopResult<Notice> {
        let sys = Caller::system("verify");
        let mut findings = Vec::with_capacity(n.findings.len());
        for id in &n.findings {
            findings.push(self.store.get_finding(*id).await?);
        }
        let n = self
            .transition(tree, &sys, n, NoticeAction::StartVerification, "")
            .await?;
        let Some(rv) = self
            .reverifier
            .as_ref()
            .filter(|_| machine_verifiable(&findings))
        else {
            return Ok(n);
        };
        let results = match rv.recheck(&findings).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(notice = %n.number, error = %e, "Re-verification failed; waiting for an analyst.");
                return Ok(n);
            }
        };
        match decide(&findings, &results) {
            VerifyDecision::NeedsAnalyst(why) => {
                tracing::info!(notice = %n.number, why, "Re-verification incomplete; waiting for an analyst.");
                Ok(n)
            }
            VerifyDecision::Fixed => {
                let n = self
                    .transition(tree, &sys, n, NoticeAction::Close, "re-verified: all fixed")
                    .await?;
                self.resolve_findings(&n, Resolution::VerifiedFix, &sys.actor)
                    .await?;
                Ok(n)
            }
            VerifyDecision::StillPresent(still) => {
                let mut titles = Vec::new();
                for r in &still {
                    if let Some(f) = findings.iter_mut().find(|f| f.id == r.finding) {
                        f.evidence = r.evidence.clone();
                        f.last_seen = f.last_seen.max(r.at);
                        f.occurrences += 1;
                        if f.status != taishi_model::finding::FindingStatus::Open {
                            f.reopen(r.at, None, ReopenReason::VerificationFailed);
                        }
                        self.store.put_finding(f, None).await?;
                        titles.push(f.title.clone());
                    }
                }
                let reason = format!(
                    "复核未通过，仍存在 {} 项问题 / still present: {}",
                    still.len(),
                    titles.join("; ")
                );
                self.transition(tree, &sys, n, NoticeAction::Return { reason }, "")
                    .await
            }
        }
    }

    /// An analyst's verdict on a notice in verification (detection findings, or when re-checks could
    /// not decide).
    pub async fn analyst_verdict(
        &self,
        caller: &Caller,
        id: Uuid,
        fixed: bool,
        reason: &str,
    ) -> LoopResult<Notice> {
        let action = if fixed {
            NoticeAction::Close
        } else {
            NoticeAction::Return {
                reason: reason.into(),
            }
        };
        self.act(caller, id, action, if fixed { reason } else { "" })
            .await
    }
}
