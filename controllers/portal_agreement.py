from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal_payment import WorkOrderPaymentPortal


class WorkOrderAgreementPortal(WorkOrderPaymentPortal):
    """The customer's service agreements and their upcoming visits."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "work_order_recurrence_count" in counters:
            Recurrence = request.env["work.order.recurrence"]
            values["work_order_recurrence_count"] = (
                Recurrence.search_count(
                    self._prepare_work_order_recurrences_domain(
                        request.env.user.partner_id
                    )
                )
                if Recurrence.has_access("read")
                else 0
            )
        return values

    def _get_work_order_recurrence_sudo(self, recurrence_id, access_token):
        """The service agreement the visitor may open (sudo), or None: the same
        check as ``_get_work_order_sudo``, on the agreement."""
        token = self._sanitize_work_order_token(access_token)
        try:
            agreement_sudo = self._document_check_access(
                "work.order.recurrence", recurrence_id, token
            )
        except (AccessError, MissingError):
            return None
        return agreement_sudo if agreement_sudo._is_shown_in_portal() else None

    def _prepare_work_order_recurrences_domain(self, partner):
        return [
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "draft"),
        ]

    @http.route(
        [
            "/my/work-orders/agreements",
            "/my/work-orders/agreements/page/<int:page>",
        ],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_work_order_recurrences(self, page=1, **kw):
        Recurrence = request.env["work.order.recurrence"]
        domain = self._prepare_work_order_recurrences_domain(
            request.env.user.partner_id
        )
        pager = portal_pager(
            url="/my/work-orders/agreements",
            total=Recurrence.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        agreements = Recurrence.search(
            domain,
            order="state desc, id desc",
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_work_order_recurrences_history"] = agreements.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                # Sudo only on the records the visitor's own search returned.
                "agreements": agreements.sudo(),
                "page_name": "work_order_recurrence",
                "default_url": "/my/work-orders/agreements",
                "pager": pager,
            }
        )
        return request.render("work_order.portal_my_work_order_recurrences", values)

    # Not read-only: the links to the visits carry their access tokens, which
    # are created on first use.
    @http.route(
        "/my/work-orders/agreements/<int:recurrence_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
    )
    def portal_work_order_recurrence_page(self, recurrence_id, access_token=None, **kw):
        bad_input = self._check_work_order_inputs(access_token=access_token)
        if bad_input:
            return self._work_order_bad_request(bad_input)
        agreement_sudo = self._get_work_order_recurrence_sudo(
            recurrence_id, access_token
        )
        if agreement_sudo is None:
            return request.redirect("/my")
        values = {
            "agreement": agreement_sudo,
            "upcoming_visits": agreement_sudo._get_portal_upcoming_visits(),
            "recent_visits": agreement_sudo._get_portal_recent_visits(),
            "page_name": "work_order_recurrence",
        }
        values = self._get_page_view_values(
            agreement_sudo,
            self._sanitize_work_order_token(access_token),
            values,
            "my_work_order_recurrences_history",
            False,
        )
        return self._work_order_private(
            request.render("work_order.portal_work_order_recurrence_page", values)
        )
