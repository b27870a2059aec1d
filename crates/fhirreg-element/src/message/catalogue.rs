// The message catalogue: `Variant = "our-id", Java key, default severity,
// issue type, [argument names];`. The English templates are in
// `messages/en.tsv`; `message::tests` checks the two agree.
catalogue! {
    // ---- JSON reader
    /// The root object has no `resourceType`: not a FHIR resource.
    JsonNoResourceType = "json-no-resource-type", None, Fatal, Structure, [];
    /// `resourceType` is not a non-empty string.
    JsonResourceTypeInvalid = "json-resource-type-invalid", None, Error, Structure, [];
    JsonDuplicateProperty = "json-duplicate-property", None, Error, Structure, ["name"];
    JsonEmptyString = "json-empty-string", None, Error, Structure, [];
    JsonEmptyObject = "json-empty-object", Some("Object_must_have_some_content"), Error, Structure, [];
    JsonEmptyArray = "json-empty-array", Some("ARRAY_CANNOT_BE_EMPTY"), Error, Structure, [];
    /// A `null` property value.
    JsonNull = "json-null", None, Error, Structure, [];
    /// A `null` array item without a matching `_name` item.
    JsonNullItem = "json-null-item", None, Error, Structure, [];
    JsonNestedArray = "json-nested-array", None, Error, Structure, [];
    /// `name` and `_name` arrays of different lengths.
    JsonArrayAlignment = "json-array-alignment", None, Error, Structure, ["name", "count", "underscore_count"];
    /// `_name` is not an array while `name` is.
    JsonUnderscoreNotArray = "json-underscore-not-array", None, Error, Structure, ["name"];
    /// `_name` is neither an object nor an array of objects and nulls.
    JsonUnderscoreShape = "json-underscore-shape", None, Error, Structure, [];
    /// `_name` next to a complex (object) property.
    JsonUnderscoreComplex = "json-underscore-complex", None, Error, Structure, ["name"];
    JsonComment = "json-comment", None, Error, Invalid, [];
    JsonExtraCommaArray = "json-extra-comma-array", None, Error, Invalid, [];
    JsonExtraCommaObject = "json-extra-comma-object", None, Error, Invalid, [];
    JsonMissingComma = "json-missing-comma", None, Error, Invalid, [];
    JsonUnquotedName = "json-unquoted-name", None, Error, Structure, ["name"];
    JsonUnquotedValue = "json-unquoted-value", None, Error, Structure, ["name", "value"];

    // ---- XML reader
    /// The root element is not in the FHIR namespace.
    XmlRootNamespace = "xml-root-namespace", Some("Wrong_namespace__expected_"), Error, Invalid, ["namespace", "found"];
    /// The root element has no namespace.
    XmlRootNoNamespace = "xml-root-no-namespace", None, Error, Invalid, ["namespace"];
    XmlElementNamespace = "xml-element-namespace", None, Error, Structure, ["name", "namespace"];
    /// A narrative `div` outside the XHTML namespace.
    XmlDivNamespace = "xml-div-namespace", None, Error, Structure, ["namespace"];
    XmlUnknownAttribute = "xml-unknown-attribute", None, Error, Structure, ["name"];
    XmlResourceAttribute = "xml-resource-attribute", None, Error, Structure, ["name"];
    XmlEmptyValue = "xml-empty-value", None, Error, Structure, [];
    XmlText = "xml-text", Some("Text_should_not_be_present"), Error, Structure, [];
    XmlCdata = "xml-cdata", Some("CDATA_is_not_allowed"), Error, Structure, [];
    XmlEmptyElement = "xml-empty-element", Some("Element_must_have_some_content"), Error, Structure, ["name"];
    XmlUnexpectedResource = "xml-unexpected-resource", None, Error, Structure, ["name"];

    // ---- Reading input (fhirreg, fhirreg-cli)
    /// The input is neither JSON nor XML.
    UnknownFormat = "unknown-format", None, Fatal, Invalid, [];
    /// The input cannot be read as JSON or XML (the reader's explanation).
    ParseError = "parse-error", None, Fatal, Invalid, ["detail"];
    /// The input could not be read at all (file system, network).
    InputUnreadable = "input-unreadable", None, Fatal, Exception, ["detail"];
    /// An NDJSON line longer than the reader accepts.
    LineTooLong = "line-too-long", None, Fatal, TooLong, ["length", "limit"];
    /// Validation itself failed (a bug): the input is not judged.
    InternalError = "internal-error", None, Fatal, Exception, [];
    /// The issues of a resource were cut at the configured maximum.
    TooManyIssues = "too-many-issues", None, Information, TooCostly, ["left_out", "max", "errors", "warnings", "information"];
    /// The one issue of an OperationOutcome without findings.
    NoIssues = "no-issues", Some("ALL_OK"), Information, Informational, [];

    // ---- Terminology (fhirreg-terminology: $validate-code, bindings)
    /// A display that is not the concept's (one valid display).
    TxWrongDisplay = "tx-wrong-display", Some("Display_Name_WS_for__should_be_one_of__instead_of"), Error, Invalid, ["display", "system", "code", "valid", "lang"];
    /// A display that is not the concept's (several valid displays).
    TxWrongDisplayChoices = "tx-wrong-display-choices", Some("Display_Name_for__should_be_one_of__instead_of_"), Error, Invalid, ["display", "system", "code", "count", "choices", "lang"];
    TxNoCode = "tx-no-code", None, Error, Informational, [];
    TxNoSystem = "tx-no-system", Some("TERMINOLOGY_TX_SYSTEM_NO_CODE"), Error, Informational, [];
    TxUnknownCode = "tx-unknown-code", Some("UNKNOWN_CODE_IN_CODESYSTEM"), Error, CodeInvalid, ["code", "system"];
    TxUnknownCodeVersion = "tx-unknown-code-version", None, Error, CodeInvalid, ["code", "system", "version"];
    /// A code missing from a code system whose content is partial
    /// (fragment, example).
    TxUnknownCodePartial = "tx-unknown-code-partial", Some("UNKNOWN_CODE__IN_FRAGMENT"), Warning, CodeInvalid, ["code", "system", "content"];
    TxUnknownCodePartialVersion = "tx-unknown-code-partial-version", None, Warning, CodeInvalid, ["code", "system", "version", "content"];
    /// A unit that is not valid UCUM (the parser's explanation).
    TxUcumInvalid = "tx-ucum-invalid", None, Error, CodeInvalid, ["code", "detail"];
    TxSystemUnavailable = "tx-system-unavailable", None, Warning, Informational, ["system"];
    TxSystemVersionUnavailable = "tx-system-version-unavailable", None, Warning, Informational, ["system", "version"];
    /// As [`Msg::TxSystemVersionUnavailable`], naming the versions held.
    TxSystemVersionUnavailableKnown = "tx-system-version-unavailable-known", None, Warning, Informational, ["system", "version", "versions"];
    TxInactive = "tx-inactive", None, Warning, Informational, ["code"];
    TxCaseDifference = "tx-case-difference", Some("CODE_CASE_DIFFERENCE"), Information, Informational, ["code", "correct", "system"];
    TxNotInValueSet = "tx-not-in-value-set", None, Error, CodeInvalid, ["system", "code", "valueset"];
    /// Membership could not be decided (`reason`: a quoted message).
    TxNotChecked = "tx-not-checked", None, Information, Informational, ["system", "code", "valueset", "reason"];
    TxBareCodeNotChecked = "tx-bare-code-not-checked", None, Information, Informational, ["code", "valueset", "reason"];
    /// A bare code whose system the value set does not tell.
    TxSystemUndetermined = "tx-system-undetermined", None, Error, Informational, ["code", "valueset"];
    TxNoCodingInValueSet = "tx-no-coding-in-value-set", None, Error, CodeInvalid, ["name", "valueset", "codes"];
    /// Why a value set include cannot be enumerated: an imported value set is missing.
    TxReasonValueSetMissing = "tx-reason-value-set-missing", None, Information, Informational, ["valueset"];
    /// Why a value set include cannot be enumerated: a fragment or example code system.
    TxReasonPartialSystem = "tx-reason-partial-system", None, Information, Informational, ["system", "content"];
    /// Why a value set include cannot be enumerated: a rule on a grammar-based system.
    TxReasonRuleNotLocal = "tx-reason-rule-not-local", None, Information, Informational, ["valueset", "system"];
    /// A `code` outside its required value set (`detail`: the findings).
    TxBindingCodeRequired = "tx-binding-code-required", Some("Terminology_TX_NoValid_16"), Error, CodeInvalid, ["code", "name", "valueset", "detail"];
    TxBindingCodeExtensible = "tx-binding-code-extensible", Some("Terminology_TX_NoValid_17"), Warning, CodeInvalid, ["code", "name", "valueset", "detail"];
    /// A code (Coding) under a required binding that its code system marks
    /// abstract (not selectable): it groups codes and is not one itself.
    BindingCodeAbstract = "binding-code-abstract", Some("ABSTRACT_CODE_NOT_ALLOWED"), Error, CodeInvalid, ["system", "code"];
    TxBindingCodePreferred = "tx-binding-code-preferred", Some("Terminology_TX_NoValid_18"), Information, CodeInvalid, ["code", "name", "valueset", "detail"];
    TxBindingCodingRequired = "tx-binding-coding-required", Some("Terminology_TX_Confirm_4a"), Error, CodeInvalid, ["coding", "name", "valueset", "detail"];
    TxBindingCodingExtensible = "tx-binding-coding-extensible", Some("Terminology_TX_NoValid_5"), Warning, CodeInvalid, ["coding", "name", "valueset"];
    TxBindingCodingPreferred = "tx-binding-coding-preferred", Some("Terminology_TX_NoValid_6"), Information, CodeInvalid, ["coding", "name", "valueset"];
    TxBindingConceptRequired = "tx-binding-concept-required", Some("Terminology_TX_NoValid_1_CC"), Error, CodeInvalid, ["name", "valueset", "codes"];
    TxBindingConceptExtensible = "tx-binding-concept-extensible", Some("Terminology_TX_NoValid_2_CC"), Warning, CodeInvalid, ["name", "valueset", "codes"];
    TxBindingConceptPreferred = "tx-binding-concept-preferred", Some("Terminology_TX_NoValid_3_CC"), Information, CodeInvalid, ["name", "valueset", "codes"];
    /// A CodeableConcept without codings under a required binding.
    BindingNoCode = "binding-no-code", Some("Terminology_TX_Code_ValueSet"), Error, CodeInvalid, ["valueset"];
    /// A CodeableConcept without codings under an extensible binding.
    BindingNoCodeExtensible = "binding-no-code-extensible", Some("Terminology_TX_Code_ValueSet_Ext"), Warning, CodeInvalid, ["valueset"];
    /// A coded value outside the maxValueSet of its binding.
    BindingMaxValueSet = "binding-max-value-set", Some("Terminology_TX_NoValid_8"), Error, CodeInvalid, ["valueset", "codes"];

    // ---- Validator: resources, structure, cardinality
    UnknownResourceType = "unknown-resource-type", Some("This_does_not_appear_to_be_a_FHIR_resource_unknown_name_"), Error, Invalid, ["name"];
    UnknownContainedResourceType = "unknown-contained-resource-type", Some("Contained_resource_does_not_appear_to_be_a_FHIR_resource_unknown_name_"), Error, Invalid, ["name"];
    ResourceTypeMissing = "resource-type-missing", Some("Unable_to_find_resourceType_property"), Error, Invalid, [];
    ResourceIdTooLong = "resource-id-too-long", Some("RESOURCE_RES_ID_MALFORMED_LENGTH"), Error, Invalid, ["length"];
    ResourceIdInvalid = "resource-id-invalid", Some("RESOURCE_RES_ID_MALFORMED_CHARS"), Error, Invalid, ["id"];
    DuplicateElementId = "duplicate-element-id", Some("DUPLICATE_ID"), Error, BusinessRule, ["id"];
    UnknownProperty = "unknown-property", Some("UNRECOGNIZED_PROPERTY"), Error, Structure, ["name"];
    TooFewOccurrences = "too-few-occurrences", Some("Validation_VAL_Profile_Minimum"), Error, Structure, ["element", "min", "count", "profile"];
    TooManyOccurrences = "too-many-occurrences", Some("Validation_VAL_Profile_Maximum"), Error, Structure, ["element", "max", "count", "profile"];
    JsonArrayExpected = "json-array-expected", Some("THIS_PROPERTY_MUST_BE_AN_ARRAY"), Error, Invalid, ["name", "parent"];
    JsonArrayUnexpected = "json-array-unexpected", Some("THIS_PROPERTY_MUST_NOT_BE_AN_ARRAY"), Error, Invalid, ["name", "parent"];
    ObjectExpected = "object-expected", Some("THIS_PROPERTY_MUST_BE_AN_OBJECT"), Error, Invalid, ["name"];
    JsonValueNotString = "json-value-not-string", Some("Error_parsing_JSON_the_primitive_value_must_be_a_string"), Error, Invalid, [];
    JsonValueNotNumber = "json-value-not-number", Some("Error_parsing_JSON_the_primitive_value_must_be_a_number"), Error, Invalid, [];
    JsonValueNotBoolean = "json-value-not-boolean", Some("Error_parsing_JSON_the_primitive_value_must_be_a_boolean"), Error, Invalid, [];
    PrimitiveEmpty = "primitive-empty", Some("Type_Specific_Checks_DT_Primitive_ValueExt"), Error, Invalid, [];
    ValueTooLong = "value-too-long", Some("Type_Specific_Checks_DT_Primitive_Length"), Error, Invalid, ["max"];
    ValueBelowMinimum = "value-below-minimum", Some("Type_Specific_Checks_DT_Decimal_LT"), Error, Invalid, ["min"];
    ValueAboveMaximum = "value-above-maximum", Some("Type_Specific_Checks_DT_Decimal_GT"), Error, Invalid, ["max"];
    /// A string shorter than the minLength extension of its definition.
    ValueTooShort = "value-too-short", None, Error, Invalid, ["min"];
    /// A value that does not match the regex extension of its definition.
    ValueRegex = "value-regex", Some("Type_Specific_Checks_DT_Primitive_Regex"), Error, Invalid, ["value", "regex"];
    /// A decimal with more places than the maxDecimalPlaces extension allows.
    DecimalTooManyPlaces = "decimal-too-many-places", Some("TYPE_SPECIFIC_CHECKS_DT_DECIMAL_CHARS"), Error, Invalid, ["places", "max"];
    /// Attachment data larger than the maxSize extension allows.
    AttachmentTooLarge = "attachment-too-large", Some("TYPE_SPECIFIC_CHECKS_DT_ATT_TOO_LONG"), Error, Invalid, ["size", "max"];
    /// A base64Binary value larger than the maxSize extension allows.
    Base64TooLarge = "base64-too-large", Some("TYPE_SPECIFIC_CHECKS_DT_BASE64_TOO_LONG"), Error, Invalid, ["size", "max"];
    /// A Quantity below the minValueQuantity of its definition (after UCUM conversion).
    QuantityBelowMinimum = "quantity-below-minimum", Some("TYPE_SPECIFIC_CHECKS_DT_QTY_MIN_VALUE_WRONG"), Error, Invalid, ["value", "min"];
    /// A Quantity above the maxValueQuantity of its definition (after UCUM conversion).
    QuantityAboveMaximum = "quantity-above-maximum", Some("TYPE_SPECIFIC_CHECKS_DT_QTY_MAX_VALUE_WRONG"), Error, Invalid, ["value", "max"];
    /// A Quantity whose unit cannot be converted to the unit of a limit of its definition.
    QuantityLimitNotComparable = "quantity-limit-not-comparable", Some("TYPE_SPECIFIC_CHECKS_DT_QTY_MIN_NO_CONVERT"), Error, Invalid, ["value", "limit"];
    /// An element out of the order its definitions give (XML).
    ElementOutOfOrder = "element-out-of-order", Some("Validation_VAL_Profile_OutOfOrder"), Error, Invalid, ["name", "after"];

    // ---- Validator: primitive values
    ValueEmpty = "value-empty", Some("Type_Specific_Checks_DT_Primitive_NotEmpty"), Error, Invalid, [];
    StringTooLong = "string-too-long", Some("Type_Specific_Checks_DT_String_Length"), Error, Invalid, [];
    BooleanInvalid = "boolean-invalid", Some("Type_Specific_Checks_DT_Boolean_Value"), Error, Invalid, [];
    IntegerInvalid = "integer-invalid", Some("Type_Specific_Checks_DT_Integer_Valid"), Error, Invalid, ["value"];
    IntegerTooLarge = "integer-too-large", Some("Type_Specific_Checks_DT_Integer_GT"), Error, Invalid, ["max"];
    IntegerTooSmall = "integer-too-small", Some("Type_Specific_Checks_DT_Integer_LT"), Error, Invalid, ["min"];
    PositiveIntTooSmall = "positive-int-too-small", Some("Type_Specific_Checks_DT_Integer_LT1"), Error, Invalid, [];
    UnsignedIntNegative = "unsigned-int-negative", Some("Type_Specific_Checks_DT_Integer_LT0"), Error, Invalid, [];
    DecimalInvalid = "decimal-invalid", Some("Type_Specific_Checks_DT_Decimal_Valid"), Error, Invalid, ["value"];
    DateInvalid = "date-invalid", Some("Type_Specific_Checks_DT_Date_Valid"), Error, Invalid, ["value"];
    DateTimeInvalid = "date-time-invalid", Some("Type_Specific_Checks_DT_DateTime_Valid"), Error, Invalid, ["value"];
    InstantInvalid = "instant-invalid", Some("Type_Specific_Checks_DT_Instant_Valid"), Error, Invalid, ["value"];
    DateTimeNoTimezone = "date-time-no-timezone", Some("Type_Specific_Checks_DT_DateTime_TZ"), Error, Invalid, [];
    TimeInvalid = "time-invalid", Some("Type_Specific_Checks_DT_Time_Valid"), Error, Invalid, ["value"];
    UriWhitespace = "uri-whitespace", Some("Type_Specific_Checks_DT_URI_WS"), Error, Invalid, ["value"];
    UriOidPrefix = "uri-oid-prefix", Some("Type_Specific_Checks_DT_URI_OID"), Error, Invalid, [];
    UriUuidPrefix = "uri-uuid-prefix", Some("Type_Specific_Checks_DT_URI_UUID"), Error, Invalid, [];
    UuidInvalid = "uuid-invalid", Some("Type_Specific_Checks_DT_UUID_Valid"), Error, Invalid, ["value"];
    OidInvalid = "oid-invalid", Some("Type_Specific_Checks_DT_OID_Valid"), Error, Invalid, ["value"];
    OidPrefix = "oid-prefix", Some("Type_Specific_Checks_DT_OID_Start"), Error, Invalid, [];
    UuidPrefix = "uuid-prefix", Some("Type_Specific_Checks_DT_UUID_Strat"), Error, Invalid, [];
    IdInvalid = "id-invalid", Some("Type_Specific_Checks_DT_ID_Valid"), Error, Invalid, ["value"];
    CodeWhitespace = "code-whitespace", Some("Type_Specific_Checks_DT_Code_WS"), Error, Invalid, ["value"];
    Base64Invalid = "base64-invalid", Some("Type_Specific_Checks_DT_Base64_Valid"), Error, Invalid, ["value"];
    Base64Whitespace = "base64-whitespace", Some("TYPE_SPECIFIC_CHECKS_DT_BASE64_NO_WS_WARNING"), Warning, Invalid, [];
    WhitespaceOnly = "whitespace-only", Some("Type_Specific_Checks_DT_Primitive_WS"), Warning, Invalid, [];
    /// A string value with whitespace before or after its content.
    /// markdown with what looks like an HTML tag (security.html: a
    /// presentation layer escapes it).
    MarkdownHtml = "markdown-html", Some("TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML"), Warning, Invalid, ["tag"];
    StringWhitespace = "string-whitespace", Some("Type_Specific_Checks_DT_String_WS"), Warning, Invalid, ["value"];
    /// A date whose year is far outside the years data is about (a typing error, usually).
    DateYearUnreasonable = "date-year-unreasonable", Some("Type_Specific_Checks_DT_DateTime_Reasonable"), Warning, Invalid, ["value"];
    /// Bi-directional control characters that are not closed (CVE-2021-42574).
    BidiUnterminated = "bidi-unterminated", Some("UNICODE_BIDI_CONTROLS_CHARS_MATCH"), Error, Invalid, ["value"];

    // ---- Validator: datatypes
    CanonicalNotAbsolute = "canonical-not-absolute", Some("TYPE_SPECIFIC_CHECKS_DT_CANONICAL_ABSOLUTE"), Error, Invalid, ["url"];
    ContainedCanonicalNotAbsolute = "contained-canonical-not-absolute", Some("TYPE_SPECIFIC_CHECKS_CANONICAL_CONTAINED"), Error, Invalid, ["url"];
    CanonicalWrongType = "canonical-wrong-type", Some("TYPE_SPECIFIC_CHECKS_DT_CANONICAL_TYPE"), Error, Invalid, ["url", "found", "expected"];
    AttachmentDataNotBase64 = "attachment-data-not-base64", None, Error, Invalid, ["char"];
    /// An Attachment with neither data nor url that says nothing about the content it lacks.
    AttachmentNoContent = "attachment-no-content", Some("TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT"), Warning, Invalid, [];
    AttachmentHashNotSha1 = "attachment-hash-not-sha1", None, Warning, Value, ["bytes"];
    AttachmentHashMismatch = "attachment-hash-mismatch", None, Warning, Value, [];
    RangeUnitsDiffer = "range-units-differ", None, Error, BusinessRule, ["element", "low", "high"];
    SampledDataPointInvalid = "sampled-data-point-invalid", None, Error, Value, ["position", "value"];
    SampledDataDimensions = "sampled-data-dimensions", None, Error, Value, ["count", "dimensions"];
    AttachmentSizeMismatch = "attachment-size-mismatch", Some("TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT"), Error, Structure, ["stated", "actual"];
    IdentifierSystemRelative = "identifier-system-relative", Some("Type_Specific_Checks_DT_Identifier_System"), Error, Invalid, [];
    IdentifierValueNotUri = "identifier-value-not-uri", Some("TYPE_SPECIFIC_CHECKS_DT_IDENTIFIER_IETF_SYSTEM_VALUE"), Error, Invalid, ["value"];
    CodingSystemRelative = "coding-system-relative", Some("Terminology_TX_System_Relative"), Error, Invalid, [];
    CodingSystemIsValueSet = "coding-system-is-value-set", Some("TERMINOLOGY_TX_SYSTEM_VALUESET2"), Error, Invalid, ["system"];
    CodingSystemIsSupplement = "coding-system-is-supplement", Some("CODESYSTEM_CS_NO_SUPPLEMENT"), Error, BusinessRule, ["system"];
    /// An https system URL of a code system known by its http URL.
    CodingSystemHttps = "coding-system-https", Some("TERMINOLOGY_TX_SYSTEM_HTTPS"), Error, Invalid, ["system", "correct"];
    /// A system that is the address of a page of the specification.
    CodingSystemHtmlPage = "coding-system-html-page", Some("TERMINOLOGY_TX_SYSTEM_WRONG_HTML"), Error, Invalid, ["system", "correct"];
    /// A system on the FHIR build server.
    CodingSystemBuildServer = "coding-system-build-server", Some("TERMINOLOGY_TX_SYSTEM_WRONG_BUILD"), Error, Invalid, ["system", "correct"];

    // ---- Validator: profiles, fixed values, patterns, slices
    UnknownProfile = "unknown-profile", Some("VALIDATION_VAL_UNKNOWN_PROFILE"), Error, Processing, ["profile"];
    MetaProfileUnknown = "meta-profile-unknown", Some("VALIDATION_VAL_PROFILE_UNKNOWN_NOT_POLICY"), Warning, Processing, ["profile"];
    NoProfileMatches = "no-profile-matches", Some("Validation_VAL_Profile_NoMatch"), Error, Structure, ["profiles"];
    /// A finding while checking an element against one of several allowed profiles (`finding`: the quoted message; `profiles`: those it came from).
    FoundAgainstProfiles = "found-against-profiles", None, Error, Structure, ["finding", "profiles"];
    VitalSignsProfile = "vital-signs-profile", Some("VALIDATION_VAL_PROFILE_SIGNPOST_OBS"), Information, Informational, ["name", "profile", "system", "code"];
    GlobalProfile = "global-profile", Some("VALIDATION_VAL_GLOBAL_PROFILE"), Information, Informational, ["profile", "guide"];
    FixedValueMismatch = "fixed-value-mismatch", Some("Profile_VAL_Fixed"), Error, Value, ["value", "fixed", "profile"];
    FixedValueExtraElement = "fixed-value-extra-element", Some("PROFILE_VAL_NOTALLOWED"), Error, Value, ["name"];
    FixedValueMissingElement = "fixed-value-missing-element", Some("PROFILE_VAL_MISSINGELEMENT"), Error, Value, ["name", "profile"];
    FixedValueCount = "fixed-value-count", Some("TERMINOLOGY_TX_CODING_COUNT"), Error, Value, ["expected", "count", "name"];
    PatternCodingNotFound = "pattern-coding-not-found", Some("TYPE_CHECKS_PATTERN_CC"), Error, Value, ["system", "code", "display", "profile"];
    PatternNotFound = "pattern-not-found", Some("PATTERN_NOT_FOUND"), Error, Value, ["name", "profile"];
    FixedExtensionsNotAllowed = "fixed-extensions-not-allowed", Some("EXTENSION_EXT_FIXED_BANNED"), Error, Value, [];
    FixedExtensionCount = "fixed-extension-count", Some("EXTENSION_EXT_COUNT_MISMATCH"), Error, Value, ["expected", "count"];
    FixedExtensionMissing = "fixed-extension-missing", Some("EXTENSION_EXT_COUNT_NOTFOUND"), Error, Value, ["url"];
    ValueRequired = "value-required", Some("PRIMITIVE_MUSTHAVEVALUE_MESSAGE"), Error, Value, ["element", "profile"];
    ValueOrAlternativeRequired = "value-or-alternative-required", Some("PRIMITIVE_VALUE_ALTERNATIVES_MESSAGE"), Error, Value, ["element", "profile", "extensions"];
    ProfileChoiceType = "profile-choice-type", Some("VALIDATION_VAL_PROFILE_WRONGTYPE"), Error, Structure, ["profile", "allowed", "found"];
    ChoiceTypeNotAllowed = "choice-type-not-allowed", Some("Validation_VAL_Profile_NoType"), Error, Structure, ["name", "types"];
    SliceNoMatchClosed = "slice-no-match-closed", Some("Validation_VAL_Profile_NotSlice"), Error, Structure, ["profile"];
    SliceMissing = "slice-missing", Some("Validation_VAL_Profile_Minimum_SLICE"), Error, Structure, ["slice", "profile"];
    SliceMissingOpen = "slice-missing-open", None, Error, Structure, ["slice", "profile"];
    SliceMagicCodeMissing = "slice-magic-code-missing", None, Error, Structure, ["slice", "code", "profile"];
    /// An item of an ordered slicing before an item of an earlier slice.
    SliceOutOfOrder = "slice-out-of-order", Some("Validation_VAL_Profile_SliceOrder"), Error, Structure, ["slice", "profile"];
    /// A sliced item after an item that matches no slice (openAtEnd).
    SliceOpenAtEnd = "slice-open-at-end", None, Error, Structure, ["slice", "profile"];

    // ---- Validator: extensions
    ExtensionUrlMissing = "extension-url-missing", Some("Extension_EXT_Url_NotFound"), Error, Invalid, [];
    ExtensionUrlNotAbsolute = "extension-url-not-absolute", Some("Extension_EXT_URL_Absolute"), Error, Invalid, ["url"];
    ExtensionUnknown = "extension-unknown", Some("EXTENSION_EXT_UNKNOWN_NOTHERE"), Error, Structure, ["url"];
    ModifierUsedAsExtension = "modifier-used-as-extension", Some("Extension_EXT_Modifier_N"), Error, Structure, ["url"];
    ExtensionUsedAsModifier = "extension-used-as-modifier", Some("Extension_EXT_Modifier_Y"), Error, Structure, ["url"];
    ExtensionValueType = "extension-value-type", Some("Extension_EXT_Type"), Error, Structure, ["url", "allowed", "found"];
    ExtensionUrlVersion = "extension-url-version", Some("EXT_VER_URL_NOT_ALLOWED"), Error, Structure, [];
    ExtensionUrlOtherVersion = "extension-url-other-version", Some("EXT_VER_URL_REVERSION"), Error, Structure, ["version"];
    ExtensionUrlVersionUsed = "extension-url-version-used", Some("EXT_VER_URL_IGNORE"), Error, Invalid, [];
    ExtensionUrlVersionUnknown = "extension-url-version-unknown", Some("EXT_VER_URL_NO_MATCH"), Warning, Invalid, [];
    SubExtensionUnknown = "sub-extension-unknown", Some("Extension_EXT_SubExtension_Invalid"), Error, Structure, ["url", "extension"];
    ExtensionContext = "extension-context", Some("EXTENSION_EXTP_CONTEXT_WRONG"), Error, Structure, ["url", "element", "allowed"];
    ModifierExtensionContext = "modifier-extension-context", Some("EXTENSION_EXTM_CONTEXT_WRONG"), Error, Structure, ["url", "element", "allowed"];
    ExtensionContextInvariant = "extension-context-invariant", Some("PROFILE_EXT_NOT_HERE"), Error, Structure, ["url", "invariant"];

    // ---- Validator: invariants
    InvariantFailed = "invariant-failed", Some("INV_FAILED"), Error, Invariant, ["key", "human"];
    InvariantFailedFrom = "invariant-failed-from", None, Error, Invariant, ["key", "human", "source"];
    InvariantNotCompiled = "invariant-not-compiled", None, Information, Processing, ["key", "expression", "source"];
    InvariantNotEvaluated = "invariant-not-evaluated", Some("INV_EVALUATION_PROBLEM"), Information, Processing, ["key", "expression", "source", "detail"];
    ContainedNotReferenced = "contained-not-referenced", Some("Reference_REF_ContainedNotReferenced"), Error, Invalid, ["id"];

    // ---- Validator: narrative
    XhtmlParse = "xhtml-parse", Some("Error_parsing_XHTML_"), Error, Invalid, ["detail"];
    XhtmlRootName = "xhtml-root-name", Some("XHTML_XHTML_Name_Invalid"), Error, Invalid, ["name"];
    XhtmlNamespace = "xhtml-namespace", Some("XHTML_XHTML_NS_InValid"), Error, Invalid, ["found", "namespace"];
    XhtmlElement = "xhtml-element", Some("XHTML_XHTML_Element_Illegal"), Error, Invalid, ["name"];
    XhtmlAttribute = "xhtml-attribute", Some("XHTML_XHTML_Attribute_Illegal"), Error, Invalid, ["name", "element"];
    XhtmlDoctype = "xhtml-doctype", Some("XHTML_XHTML_DOCTYPE_ILLEGAL"), Error, Invalid, [];
    /// An entity reference that is neither XML's nor HTML's.
    XhtmlEntity = "xhtml-entity", Some("XHTML_XHTML_Entity_Illegal"), Error, Invalid, ["entity"];
    /// A block element inside a paragraph.
    XhtmlBlockInParagraph = "xhtml-block-in-paragraph", Some("XHTML_XHTML_ELEMENT_ILLEGAL_IN_PARA"), Error, Invalid, ["name"];
    /// A resource with a language whose narrative does not state it (lang and xml:lang on the div).
    NarrativeLangMissing = "narrative-lang-missing", Some("Language_XHTML_Lang_Missing1"), Warning, BusinessRule, ["language", "missing"];
    /// A profile's narrative-language-control `_no`: the narrative has
    /// language sections (`languages`, comma separated).
    NarrativeSectionsProhibited = "narrative-sections-prohibited", None, Error, BusinessRule, ["languages", "profile"];
    /// A profile's narrative-language-control `_yes`: the narrative has
    /// no language section.
    NarrativeSectionsRequired = "narrative-sections-required", None, Error, BusinessRule, ["profile"];
    /// A profile's narrative-language-control names a language (or
    /// `_resource`: the resource's) with no section in the narrative.
    NarrativeSectionMissing = "narrative-section-missing", None, Error, BusinessRule, ["language", "profile"];
    /// A profile's narrative-source-control: a part of the narrative has
    /// no class saying where it comes from (reported at the level the
    /// extension gives).
    NarrativeSourceMissing = "narrative-source-missing", None, Error, BusinessRule, ["part", "profile"];
    XhtmlProcessingInstruction = "xhtml-processing-instruction", None, Error, Invalid, [];
    XhtmlLinkUnresolved = "xhtml-link-unresolved", None, Error, Invalid, ["href", "path", "text"];
    XhtmlLinkScheme = "xhtml-link-scheme", None, Error, Invalid, ["scheme", "href", "path", "text"];

    // ---- Validator: references
    /// A Reference with neither reference nor identifier, and no display either.
    ReferenceNoDisplay = "reference-no-display", Some("Reference_REF_NoDisplay"), Warning, Structure, [];
    /// The same security label twice in meta.security.
    MetaSecurityDuplicate = "meta-security-duplicate", Some("Meta_RES_Security_Duplicate"), Warning, BusinessRule, ["system", "code"];
    ReferenceFormat = "reference-format", Some("Reference_REF_Format2"), Error, Invalid, ["reference"];
    ReferenceFormatOrSearch = "reference-format-or-search", Some("Reference_REF_Format1"), Error, Invalid, ["reference"];
    ReferenceTypeNotAllowed = "reference-type-not-allowed", Some("Reference_REF_BadTargetType2"), Error, Structure, ["type", "reference", "allowed"];
    ReferenceTargetType = "reference-target-type", Some("Reference_REF_BadTargetType"), Error, Structure, ["found", "allowed"];
    ReferenceDeclaredTypeMismatch = "reference-declared-type-mismatch", None, Error, Structure, ["declared", "actual"];
    ReferenceTypeNotTarget = "reference-type-not-target", Some("Reference_REF_WrongTarget"), Error, Structure, ["type", "allowed"];
    ReferenceProfileUnknown = "reference-profile-unknown", Some("Reference_REF_CantResolveProfile"), Error, Structure, ["profile"];
    ReferenceNoProfileMatch = "reference-no-profile-match", Some("Reference_REF_CantMatchChoice"), Error, Structure, ["reference", "profiles"];
    ReferenceAggregation = "reference-aggregation", Some("Reference_REF_Aggregation"), Error, Structure, ["how", "modes"];
    ReferenceNotLocal = "reference-not-local", Some("Reference_REF_NotFound_Bundle"), Error, Required, ["reference"];

    // ---- Validator: Bundles
    FullUrlNotAbsolute = "full-url-not-absolute", Some("BUNDLE_BUNDLE_ENTRY_FULLURL_ABSOLUTE"), Error, Invalid, ["url"];
    FullUrlMissing = "full-url-missing", Some("BUNDLE_BUNDLE_ENTRY_FULLURL_REQUIRED"), Error, Invalid, [];
    FullUrlRestfulNoId = "full-url-restful-no-id", Some("BUNDLE_BUNDLE_ENTRY_NOID"), Error, Invalid, ["url"];
    FullUrlRestfulMismatch = "full-url-restful-mismatch", Some("BUNDLE_BUNDLE_ENTRY_IDURLMISMATCH"), Error, Invalid, ["url", "tail"];
    /// A canonical resource whose url is its entry's fullUrl, which is not its RESTful address.
    BundleEntryCanonical = "bundle-entry-canonical", Some("Bundle_BUNDLE_Entry_Canonical"), Error, Invalid, ["url"];
    EntryNoFullUrl = "entry-no-full-url", Some("BUNDLE_BUNDLE_ENTRY_NOFULLURL"), Error, Required, [];
    SearchOutcomeNotOutcome = "search-outcome-not-outcome", Some("BUNDLE_SEARCH_NOOP"), Error, Invalid, ["type"];
    SearchMatchNoId = "search-match-no-id", Some("BUNDLE_SEARCH_ENTRY_NO_RESOURCE_ID"), Error, Invalid, [];
    SearchMatchWrongType = "search-match-wrong-type", Some("BUNDLE_SEARCH_ENTRY_WRONG_RESOURCE_TYPE_MODE"), Error, Invalid, ["type", "expected"];
    /// A searchset entry without a resource.
    SearchEntryNoResource = "search-entry-no-resource", Some("BUNDLE_SEARCH_ENTRY_NO_RESOURCE"), Error, Invalid, [];
    /// A searchset without a self link.
    SearchNoSelfLink = "search-no-self-link", Some("BUNDLE_SEARCH_NOSELF"), Warning, Invalid, [];
    /// A searchset entry without search.mode where others have one.
    SearchEntryNoMode = "search-entry-no-mode", Some("BUNDLE_SEARCH_NO_MODE"), Warning, Invalid, [];
    EntryResourceType = "entry-resource-type", Some("Bundle_BUNDLE_Entry_Type2"), Error, Invalid, ["type", "expected"];
    EntryProfileUnknown = "entry-profile-unknown", Some("Bundle_BUNDLE_Entry_NoProfile_EXPL"), Error, Structure, ["profile", "holder"];
    BundleEntryNotFound = "bundle-entry-not-found", Some("BUNDLE_BUNDLE_ENTRY_NOTFOUND"), Error, NotFound, ["reference", "name"];
    BundleEntryFoundMultiple = "bundle-entry-found-multiple", Some("BUNDLE_BUNDLE_ENTRY_FOUND_MULTIPLE"), Error, Invalid, ["reference", "name", "count"];
    BundleFragmentNotFound = "bundle-fragment-not-found", Some("BUNDLE_BUNDLE_ENTRY_NOTFOUND_FRAGMENT"), Error, NotFound, ["reference", "fragment"];
    BundleFragmentMultiple = "bundle-fragment-multiple", Some("BUNDLE_BUNDLE_ENTRY_FOUND_MULTIPLE_FRAGMENT"), Error, Invalid, ["fragment", "reference", "name", "count"];
    BundleEntrySameIdOther = "bundle-entry-same-id-other", Some("BUNDLE_BUNDLE_ENTRY_NOTFOUND_APPARENT"), Error, Invalid, ["reference", "name", "target", "found"];
    BundleEntrySameIdOthers = "bundle-entry-same-id-others", None, Error, Invalid, ["reference", "name", "count", "target", "found"];
    BundleEntrySameIdNoBase = "bundle-entry-same-id-no-base", None, Error, Invalid, ["reference", "name", "found", "source"];
    BundleEntrySameIdsNoBase = "bundle-entry-same-ids-no-base", None, Error, Invalid, ["reference", "name", "count", "found", "source"];
    DocumentEmpty = "document-empty", Some("BUNDLE_BUNDLE_ENTRY_NOFIRST"), Error, Invalid, [];
    DocumentFirstNoResource = "document-first-no-resource", Some("BUNDLE_BUNDLE_ENTRY_NOFIRSTRESOURCE"), Error, Invalid, [];
    DocumentFirstNotComposition = "document-first-not-composition", Some("BUNDLE_BUNDLE_ENTRY_DOCUMENT"), Error, Invalid, [];
    MessageFirstNotHeader = "message-first-not-header", Some("VALIDATION_BUNDLE_MESSAGE"), Error, Invalid, [];
    StylesheetExternal = "stylesheet-external", Some("BUNDLE_LINK_STYELSHEET_EXTERNAL"), Warning, BusinessRule, [];
    StylesheetInsecure = "stylesheet-insecure", Some("BUNDLE_LINK_STYELSHEET_INSECURE"), Warning, BusinessRule, [];
    StylesheetNotFound = "stylesheet-not-found", Some("BUNDLE_LINK_STYELSHEET_NOT_FOUND"), Error, NotFound, [];
    /// A paging link relation given twice.
    BundleLinkDuplicate = "bundle-link-duplicate", Some("BUNDLE_LINK_SEARCH_NO_DUPLICATES"), Error, Invalid, ["relation"];
    /// A paging link relation in a bundle that is not a search or history.
    BundleLinkNotAllowed = "bundle-link-not-allowed", Some("BUNDLE_LINK_SEARCH_PROHIBITED"), Error, Invalid, ["relation", "type"];
    MessageEntryBackward = "message-entry-backward", Some("BUNDLE_BUNDLE_ENTRY_REVERSE_MSG"), Information, Informational, ["entry"];
    DocumentEntryBackward = "document-entry-backward", Some("BUNDLE_BUNDLE_ENTRY_REVERSE_R4"), Warning, Invalid, ["entry"];
    MessageEntryOrphan = "message-entry-orphan", Some("BUNDLE_BUNDLE_ENTRY_ORPHAN_MESSAGE"), Warning, Informational, ["entry"];
    DocumentEntryOrphan = "document-entry-orphan", Some("BUNDLE_BUNDLE_ENTRY_ORPHAN_DOCUMENT"), Error, Informational, ["entry"];
    RelativeReferenceNoFullUrl = "relative-reference-no-full-url", Some("BUNDLE_BUNDLE_FULLURL_MISSING"), Error, Required, [];
    EntryNeedsVersionId = "entry-needs-version-id", Some("BUNDLE_BUNDLE_FULLURL_NEEDVERSION"), Warning, Required, ["url"];
    BundleMultipleMatches = "bundle-multiple-matches", Some("BUNDLE_BUNDLE_MULTIPLEMATCHES"), Error, BusinessRule, ["reference"];
    BundleMatchWrongType = "bundle-match-wrong-type", Some("REFERENCE_REF_RESOURCETYPE"), Error, Required, ["reference", "type"];
    UrnNotInBundle = "urn-not-in-bundle", Some("BUNDLE_BUNDLE_NOT_LOCAL"), Warning, Required, ["reference"];
    BundlePossibleMatches = "bundle-possible-matches", Some("BUNDLE_POSSSIBLE_MATCHES"), Warning, Required, ["target", "reference"];
    BundlePossibleMatchNoFullUrl = "bundle-possible-match-no-full-url", Some("BUNDLE_BUNDLE_POSSIBLE_MATCH_NO_FU"), Warning, Required, ["entry", "reference"];
    BundlePossibleMatchOtherFullUrl = "bundle-possible-match-other-full-url", Some("BUNDLE_BUNDLE_POSSIBLE_MATCH_WRONG_FU"), Warning, Required, ["entry", "reference", "url", "target"];

    // ---- Validator: QuestionnaireResponse and Questionnaire
    QrLinkIdUnknown = "qr-link-id-unknown", Some("Questionnaire_QR_Item_NotFound"), Error, NotFound, ["link"];
    QrRequiredMissing = "qr-required-missing", Some("Questionnaire_QR_Item_Missing"), Error, Required, ["link"];
    QrAnswerNotEnabled = "qr-answer-not-enabled", Some("Questionnaire_QR_Item_NotEnabled2"), Error, Invalid, ["link"];
    QrDisplayAnswered = "qr-display-answered", Some("Questionnaire_QR_Item_Display"), Error, Structure, [];
    QrRequiredGroupEmpty = "qr-required-group-empty", Some("QUESTIONNAIRE_QR_ITEM_GROUP_REQUIRED"), Error, Invariant, [];
    /// An answer to an item of type group.
    QrGroupAnswered = "qr-group-answered", Some("Questionnaire_QR_Item_Group"), Error, Structure, [];
    /// Items of a question beside its answers, not inside them.
    QrItemsOutsideAnswers = "qr-items-outside-answers", Some("Questionnaire_QR_Item_GroupAnswer"), Error, Structure, ["link"];
    /// Items in another order than the Questionnaire's.
    QrItemOrder = "qr-item-order", Some("Questionnaire_QR_Item_Order"), Error, Structure, ["link"];
    /// An item that does not repeat given more than once.
    QrItemRepeated = "qr-item-repeated", Some("Questionnaire_QR_Item_OnlyOneI"), Error, Invalid, ["link", "count"];
    /// An item's text that is not its Questionnaire item's.
    QrItemText = "qr-item-text", Some("Questionnaire_QR_Item_Text"), Error, Invalid, ["link"];
    /// The Questionnaire of a response cannot be found.
    QrQuestionnaireNotFound = "qr-questionnaire-not-found", Some("Questionnaire_QR_Q_NotFound"), Warning, NotFound, ["questionnaire"];
    QrTooFewAnswers = "qr-too-few-answers", Some("QUESTIONNAIRE_QR_MIN_OCCURS"), Error, Invalid, ["min", "count"];
    QrTooManyAnswers = "qr-too-many-answers", Some("QUESTIONNAIRE_QR_MAX_OCCURS"), Error, Invalid, ["max", "count"];
    QrOneAnswerOnly = "qr-one-answer-only", Some("Questionnaire_QR_Item_OnlyOneA"), Error, Structure, [];
    QrAnswerType = "qr-answer-type", Some("Questionnaire_QR_Item_WrongType"), Error, Invariant, ["expected", "found"];
    QrAnswerTypes = "qr-answer-types", Some("Questionnaire_QR_Item_WrongType2"), Error, Invariant, ["allowed"];
    QrStringNotInValueSet = "qr-string-not-in-value-set", Some("QUESTIONNAIRE_QR_ITEM_NOTINVS"), Error, Invariant, ["value", "valueset"];
    QrCodingNotInValueSet = "qr-coding-not-in-value-set", Some("QUESTIONNAIRE_QR_ITEM_NOTINVS_CODE"), Error, CodeInvalid, ["code", "system", "name", "detail"];
    QrRegex = "qr-regex", Some("QUESTIONNAIRE_QR_ITEM_REGEX"), Error, Invariant, ["value", "format", "regex"];
    QrCodingNotAnOption = "qr-coding-not-an-option", Some("Questionnaire_QR_Item_NoCoding"), Error, Invariant, ["system", "code"];
    QrValueNotAnOption = "qr-value-not-an-option", Some("Questionnaire_QR_Item_NoOption"), Error, Invariant, ["type", "value"];
    QrAttachmentTooLarge = "qr-attachment-too-large", Some("QUESTIONNAIRE_QR_ITEM_ATTACHMENT_SIZE"), Error, Required, ["max", "size"];
    QrAttachmentType = "qr-attachment-type", Some("QUESTIONNAIRE_QR_ITEM_ATTACHMENT_TYPE"), Error, Required, ["type", "allowed"];
    QrUnitNotInValueSet = "qr-unit-not-in-value-set", Some("QUESTIONNAIRE_QR_ITEM_UNIT_VS"), Error, Invariant, ["value", "unit", "system", "code", "valueset"];
    QrUnitNotAnOption = "qr-unit-not-an-option", Some("QUESTIONNAIRE_QR_ITEM_UNIT"), Error, Invariant, ["value", "unit", "system", "code", "allowed"];
    QrBelowMinimum = "qr-below-minimum", Some("QUESTIONNAIRE_QR_ITEM_MIN"), Error, Invariant, ["value", "min"];
    QrAboveMaximum = "qr-above-maximum", Some("QUESTIONNAIRE_QR_ITEM_MAX"), Error, Invariant, ["value", "max"];
    QrTooManyDecimals = "qr-too-many-decimals", Some("QUESTIONNAIRE_QR_ITEM_DECIMALS"), Error, Invariant, ["value", "places"];
    QrReferenceTypeUnknown = "qr-reference-type-unknown", Some("QUESTIONNAIRE_QR_ITEM_BAD_REF_TYPE"), Error, Invariant, ["type", "reference"];
    QrReferenceTypeNotAllowed = "qr-reference-type-not-allowed", Some("QUESTIONNAIRE_QR_ITEM_REF_TYPE"), Error, Invariant, ["type", "reference", "allowed"];
    QEnableWhenNoQuestion = "q-enable-when-no-question", Some("QUESTIONNAIRE_Q_ENABLEWHEN_NOLINK"), Error, BusinessRule, [];
    QEnableWhenUnknownQuestion = "q-enable-when-unknown-question", Some("QUESTIONNAIRE_Q_ENABLEWHEN_NOTARGET"), Error, BusinessRule, ["question", "link"];
    QEnableWhenSelf = "q-enable-when-self", Some("QUESTIONNAIRE_Q_ENABLEWHEN_SELF"), Error, BusinessRule, [];
    QEnableWhenInner = "q-enable-when-inner", Some("QUESTIONNAIRE_Q_ENABLEWHEN_ISINNER"), Error, BusinessRule, [];
    QEnableWhenAfter = "q-enable-when-after", Some("QUESTIONNAIRE_Q_ENABLEWHEN_AFTER"), Warning, BusinessRule, ["question"];

    // ---- Validator: Measure and MeasureReport
    MeasureLibraryUnknown = "measure-library-unknown", Some("MEASURE_M_LIB_UNKNOWN"), Information, NotFound, ["library"];
    MeasureNoGroups = "measure-no-groups", Some("MEASURE_M_NO_GROUPS"), Warning, Required, [];
    MeasureGroupNoCode = "measure-group-no-code", Some("MEASURE_M_GROUP_CODE"), Warning, Required, [];
    MeasureGroupNoPopulation = "measure-group-no-population", Some("MEASURE_M_GROUP_POP"), Warning, Required, [];
    MeasurePopulationNoCode = "measure-population-no-code", Some("MEASURE_M_GROUP_POP_NO_CODE"), Warning, Required, [];
    MeasureStratifierNoCode = "measure-stratifier-no-code", Some("MEASURE_M_GROUP_STRATA_NO_CODE"), Warning, Required, [];
    MeasureLanguageUnsupported = "measure-language-unsupported", Some("MEASURE_M_CRITERIA_UNKNOWN"), Warning, Required, ["language"];
    MeasureCqlNoLibrary = "measure-cql-no-library", Some("MEASURE_M_CRITERIA_CQL_NO_LIB"), Error, Invalid, [];
    MeasureCqlLibraryAmbiguous = "measure-cql-library-ambiguous", Some("MEASURE_M_CRITERIA_CQL_LIB_DUPL"), Error, Invalid, ["namespace"];
    MeasureCqlLibraryMissing = "measure-cql-library-missing", Some("MEASURE_M_CRITERIA_CQL_LIB_NOT_FOUND"), Error, Invalid, ["namespace"];
    MeasureCqlNamespaceNeeded = "measure-cql-namespace-needed", Some("MEASURE_M_CRITERIA_CQL_ONLY_ONE_LIB"), Error, Invalid, [];
    MeasureCqlNotCompiled = "measure-cql-not-compiled", Some("MEASURE_M_CRITERIA_CQL_NO_ELM"), Error, Invalid, ["library"];
    MeasureCqlError = "measure-cql-error", Some("MEASURE_M_CRITERIA_CQL_ERROR"), Error, Invalid, ["library", "detail"];
    MeasureCqlElmInvalid = "measure-cql-elm-invalid", Some("MEASURE_M_CRITERIA_CQL_ELM_NOT_VALID"), Error, Invalid, ["library"];
    MeasureCqlStatementMissing = "measure-cql-statement-missing", Some("MEASURE_M_CRITERIA_CQL_NOT_FOUND"), Error, Invalid, ["statement", "library"];
    ReportNoMeasure = "report-no-measure", Some("MEASURE_MR_M_NONE"), Information, Required, [];
    ReportMeasureUnknown = "report-measure-unknown", Some("MEASURE_MR_M_NOTFOUND"), Warning, Required, ["measure"];
    ReportScoringUnknown = "report-scoring-unknown", Some("MEASURE_MR_M_SCORING_UNK"), Information, BusinessRule, [];
    ReportGroupCodeUnusable = "report-group-code-unusable", Some("MEASURE_MR_GRP_NO_USABLE_CODE"), Error, BusinessRule, [];
    ReportGroupCodeMismatch = "report-group-code-mismatch", Some("MEASURE_MR_GRP_NO_WRONG_CODE"), Error, BusinessRule, ["code", "expected"];
    ReportGroupNoCode = "report-group-no-code", Some("MEASURE_MR_GRP_NO_CODE"), Error, BusinessRule, [];
    ReportGroupUnknownCode = "report-group-unknown-code", Some("MEASURE_MR_GRP_UNK_CODE"), Error, BusinessRule, [];
    ReportGroupDuplicateCode = "report-group-duplicate-code", Some("MEASURE_MR_GRP_DUPL_CODE"), Error, BusinessRule, [];
    ReportGroupMissing = "report-group-missing", Some("MEASURE_MR_GRP_MISSING_BY_CODE"), Error, BusinessRule, ["code"];
    ReportPopulationNoCode = "report-population-no-code", Some("MEASURE_MR_GRP_POP_NO_CODE"), Error, BusinessRule, [];
    ReportPopulationUnknownCode = "report-population-unknown-code", Some("MEASURE_MR_GRP_POP_UNK_CODE"), Error, BusinessRule, [];
    ReportPopulationDuplicateCode = "report-population-duplicate-code", Some("MEASURE_MR_GRP_POP_DUPL_CODE"), Error, BusinessRule, [];
    ReportCountMismatch = "report-count-mismatch", Some("MEASURE_MR_GRP_POP_COUNT_MISMATCH"), Error, BusinessRule, ["count", "subjects"];
    ReportSubjectsNotAllowed = "report-subjects-not-allowed", Some("MEASURE_MR_GRP_POP_NO_SUBJECTS"), Error, BusinessRule, [];
    ReportCountMissing = "report-count-missing", Some("MEASURE_MR_GRP_POP_NO_COUNT"), Warning, BusinessRule, [];
    ScoreNotForDataCollection = "score-not-for-data-collection", Some("MEASURE_MR_SCORE_PROHIBITED_RT"), Error, BusinessRule, [];
    ScoreNotForCohort = "score-not-for-cohort", Some("MEASURE_MR_SCORE_PROHIBITED_MS"), Error, BusinessRule, [];
    ScoreMissing = "score-missing", Some("MEASURE_MR_SCORE_REQUIRED"), Error, Required, ["scoring"];
    ScoreUnitNotAllowed = "score-unit-not-allowed", Some("MEASURE_MR_SCORE_UNIT_PROHIBITED"), Error, BusinessRule, [];
    ScoreValueMissing = "score-value-missing", Some("MEASURE_MR_SCORE_VALUE_REQUIRED"), Error, Required, ["scoring"];
    ScoreOutOfRange = "score-out-of-range", Some("MEASURE_MR_SCORE_VALUE_INVALID_01"), Error, Required, [];

    // ---- Validator: CodeSystem, ValueSet, ConceptMap and additional bindings
    SupplementContentWrong = "supplement-content-wrong", Some("CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL_WRONG"), Error, BusinessRule, [];
    SupplementElementPresent = "supplement-element-present", Some("CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL"), Error, BusinessRule, ["element"];
    SupplementTargetMissing = "supplement-target-missing", Some("CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL_MISSING"), Error, BusinessRule, [];
    CaseSensitiveMissingHl7 = "case-sensitive-missing-hl7", Some("CODESYSTEM_CS_HL7_MISSING_ELEMENT_SHOULD"), Warning, BusinessRule, [];
    CaseSensitiveMissing = "case-sensitive-missing", Some("CODESYSTEM_CS_NONHL7_MISSING_ELEMENT"), Information, BusinessRule, [];
    CodeSystemCountComplete = "code-system-count-complete", Some("CODESYSTEM_CS_COUNT_COMPLETE_WRONG"), Error, Invalid, ["count", "stated"];
    CodeSystemCountPartial = "code-system-count-partial", Some("CODESYSTEM_CS_COUNT_FRAGMENT_WRONG"), Warning, Invalid, ["count", "stated"];
    CodeSystemConceptsNotPresent = "code-system-concepts-not-present", Some("CODESYSTEM_CS_COUNT_NO_CONTENT_ALLOWED"), Error, Invalid, [];
    /// A concept property whose code CodeSystem.property does not define.
    CodeSystemPropertyUndefined = "code-system-property-undefined", Some("CODESYSTEM_PROPERTY_UNDEFINED"), Error, BusinessRule, ["code"];
    /// A concept property whose value is not of the type CodeSystem.property declares.
    CodeSystemPropertyWrongType = "code-system-property-wrong-type", Some("CODESYSTEM_PROPERTY_WRONG_TYPE"), Error, BusinessRule, ["code", "type", "found"];
    SupplementCodeUnknown = "supplement-code-unknown", Some("CODESYSTEM_CS_SUPP_INVALID_CODE"), Error, BusinessRule, ["code", "system"];
    ValueSetParameterUnused = "value-set-parameter-unused", Some("VALUESET_PARAMETER_NOT_USED"), Warning, BusinessRule, ["name"];
    ValueSetSystemRelative = "value-set-system-relative", Some("VALUESET_INCLUDE_SYSTEM_ABSOLUTE"), Error, Invalid, ["system"];
    ValueSetSystemContained = "value-set-system-contained", None, Error, Invalid, [];
    ValueSetIncludesSupplement = "value-set-includes-supplement", Some("VALUESET_INCLUDE_CS_SUPPLEMENT"), Error, Invalid, ["system", "base"];
    ValueSetConceptUnknown = "value-set-concept-unknown", Some("VALUESET_INCLUDE_INVALID_CONCEPT_CODE"), Error, BusinessRule, ["code", "system", "detail"];
    FilterPropertyUnknown = "filter-property-unknown", Some("VALUESET_UNKNOWN_FILTER_PROPERTY"), Warning, Invalid, ["property", "system", "known"];
    FilterPropertyUnknownSnomed = "filter-property-unknown-snomed", None, Warning, Invalid, ["property", "system", "known"];
    FilterPropertyUnknownNoSystem = "filter-property-unknown-no-system", Some("VALUESET_UNKNOWN_FILTER_PROPERTY_NO_CS"), Information, Invalid, ["property", "system", "known"];
    FilterOperatorNotAllowed = "filter-operator-not-allowed", Some("VALUESET_BAD_FILTER_OP"), Error, Invalid, ["op", "property", "system", "allowed"];
    FilterRegexInvalid = "filter-regex-invalid", Some("VALUESET_BAD_FILTER_VALUE_VALID_REGEX"), Error, Invalid, ["property", "value", "detail"];
    FilterRegexOnConcept = "filter-regex-on-concept", Some("VALUESET_BAD_PROPERTY_NO_REGEX"), Error, Invalid, ["property"];
    FilterParameterUnknown = "filter-parameter-unknown", Some("VALUESET_BAD_FILTER_EXPR_PARAM_NAME"), Error, Exception, ["expression", "name"];
    FilterValueBoolean = "filter-value-boolean", Some("VALUESET_BAD_FILTER_VALUE_BOOLEAN"), Error, Invalid, ["property", "value"];
    FilterValueCode = "filter-value-code", Some("VALUESET_BAD_FILTER_VALUE_CODE"), Error, Invalid, ["property", "value"];
    FilterValueCodeUnknown = "filter-value-code-unknown", Some("VALUESET_BAD_FILTER_VALUE_VALID_CODE"), Error, Invalid, ["property", "system", "value", "detail"];
    FilterValueCodingSearch = "filter-value-coding-search", Some("VALUESET_BAD_FILTER_VALUE_CODED_SEARCH"), Warning, Invalid, ["property", "value"];
    FilterValueCoding = "filter-value-coding", Some("VALUESET_BAD_FILTER_VALUE_CODED"), Error, Invalid, ["property", "value"];
    FilterValueDateTime = "filter-value-date-time", Some("VALUESET_BAD_FILTER_VALUE_DATETIME"), Error, Invalid, ["property", "value"];
    FilterValueDecimal = "filter-value-decimal", Some("VALUESET_BAD_FILTER_VALUE_DECIMAL"), Error, Invalid, ["property", "value"];
    FilterValueInteger = "filter-value-integer", Some("VALUESET_BAD_FILTER_VALUE_INTEGER"), Error, Invalid, ["property", "value"];
    FilterValueEcl = "filter-value-ecl", Some("VALUESET_BAD_FILTER_VALUE_ECL"), Error, Invalid, ["property", "value", "detail"];
    AdditionalBindingRequired = "additional-binding-required", Some("TERMINOLOGY_TX_NOVALID_ADDITIONAL"), Error, CodeInvalid, ["name", "valueset", "codes"];
    AdditionalBindingExtensible = "additional-binding-extensible", None, Warning, CodeInvalid, ["name", "valueset", "codes"];
    AdditionalBindingPreferred = "additional-binding-preferred", None, Information, CodeInvalid, ["name", "valueset", "codes"];
    ConceptMapSourceCodeUnknown = "concept-map-source-code-unknown", Some("CONCEPTMAP_GROUP_SOURCE_CODE_INVALID"), Error, Required, ["code", "system"];
    ConceptMapTargetCodeUnknown = "concept-map-target-code-unknown", Some("CONCEPTMAP_GROUP_TARGET_CODE_INVALID"), Error, Required, ["code", "system"];
    ConceptMapSourceNotInValueSet = "concept-map-source-not-in-value-set", Some("CONCEPTMAP_GROUP_SOURCE_CODE_INVALID_VS"), Error, Required, ["code", "valueset"];
    ConceptMapTargetNotInValueSet = "concept-map-target-not-in-value-set", Some("CONCEPTMAP_GROUP_TARGET_CODE_INVALID_VS"), Error, Required, ["code", "valueset"];

    // ---- Validator: StructureDefinition and SearchParameter
    SdRootSlicing = "sd-root-slicing", Some("SD_NO_SLICING_ON_ROOT"), Error, BusinessRule, [];
    SnapshotRootSlicing = "snapshot-root-slicing", Some("ERROR_GENERATING_SNAPSHOT"), Error, Exception, ["path"];
    SdFixedBaseChanged = "sd-fixed-base-changed", Some("PROFILE_VAL_FIXED_BASE"), Error, Value, ["value", "fixed", "base"];
    SdContextElement = "sd-context-element", Some("SD_CONTEXT_SHOULD_NOT_BE_ELEMENT"), Warning, BusinessRule, ["id"];
    SdTypeNotLegal = "sd-type-not-legal", Some("SD_TYPE_NOT_LEGAL"), Error, Invalid, ["type"];
    SdSpecializationSameType = "sd-specialization-same-type", Some("SD_SPECIALIZED_TYPE_MATCHES"), Error, Invalid, ["type", "base"];
    /// A type's profile in an element definition constrains another type.
    SdTypeProfileWrongType = "sd-type-profile-wrong-type", Some("SD_ED_TYPE_PROFILE_WRONG_TYPE"), Error, BusinessRule, ["profile", "profile_type", "path", "type"];
    /// A differential element whose path names no element of the base
    /// (the snapshot cannot be generated).
    SdPathUnknown = "sd-path-unknown", None, Error, Invalid, ["path", "base"];
    SdPathType = "sd-path-type", Some("SD_PATH_TYPE_MISMATCH"), Error, Invalid, ["path", "type"];
    /// A StructureDefinition with a baseDefinition and no derivation.
    SdNoDerivation = "sd-no-derivation", Some("SD_MUST_HAVE_DERIVATION"), Error, Invalid, ["url"];
    /// An OperationDefinition's input or output profile gives a parameter
    /// (its slice) another `min` or `max` (`property`) than the operation.
    OpDefProfileCardinality = "opdef-profile-cardinality", None, Error, BusinessRule, ["name", "property", "profile_value", "use", "profile", "value"];
    /// The profile's slice allows a type the operation's parameter does not.
    OpDefProfileTypeNotAllowed = "opdef-profile-type-not-allowed", None, Error, BusinessRule, ["type", "name", "use", "profile", "allowed"];
    /// The operation's parameter has a type the profile's slice does not allow.
    OpDefProfileTypeMissing = "opdef-profile-type-missing", None, Error, BusinessRule, ["type", "name", "use", "profile", "allowed"];
    /// The profile's slice allows a target profile the operation's parameter does not list.
    OpDefProfileTargetNotAllowed = "opdef-profile-target-not-allowed", None, Error, BusinessRule, ["target", "name", "use", "profile", "targets"];
    /// The operation's parameter lists a target profile the profile's slice does not allow.
    OpDefProfileTargetMissing = "opdef-profile-target-missing", None, Error, BusinessRule, ["target", "name", "use", "profile", "targets"];
    SearchParamComponents = "search-param-components", Some("SEARCHPARAMETER_MISSING_COMPONENTS"), Error, BusinessRule, [];
    SearchParamBaseUnknown = "search-param-base-unknown", Some("SEARCHPARAMETER_NOTFOUND"), Warning, BusinessRule, ["url"];
    SearchParamBaseNotListed = "search-param-base-not-listed", Some("SEARCHPARAMETER_BASE_WRONG"), Error, BusinessRule, ["type", "url"];
    SearchParamTypeDiffers = "search-param-type-differs", Some("SEARCHPARAMETER_TYPE_WRONG"), Error, BusinessRule, ["type", "base_type", "url"];
    SearchParamExpressionType = "search-param-expression-type", Some("SEARCHPARAMETER_EXP_WRONG"), Error, Invalid, ["expression", "name", "types", "position"];

    // ---- Norwegian national identifiers (fhirreg-no), on Identifier.value
    /// A number of the wrong length (`type`: the identifier's Norwegian name).
    NoIdLength = "no-id-length", None, Error, Value, ["type", "expected", "found"];
    /// A character that is not a digit, at `position` (1-based).
    NoIdNotDigit = "no-id-not-digit", None, Error, Value, ["type", "position"];
    /// A control digit that does not match (mod 11), at `position`.
    NoIdControlDigit = "no-id-control-digit", None, Error, Value, ["type", "position"];
    /// A digit outside the range its kind allows there (`allowed`: `0–3`).
    NoIdDigit = "no-id-digit", None, Error, Value, ["type", "position", "allowed"];
    /// A valid number of another kind (`found`), whose system is `system`.
    NoIdWrongKind = "no-id-wrong-kind", None, Error, Value, ["type", "found", "system"];
    /// An individual number and two-digit year that give no century.
    NoIdCentury = "no-id-century", None, Error, Value, ["type", "individual", "year"];
    /// A birth date (offsets taken off) that is not a real date.
    NoIdDate = "no-id-date", None, Error, Value, ["type", "date"];
    /// A synthetic test number (`source`: Test Norge (Tenor), NAV).
    NoIdSynthetic = "no-id-synthetic", None, Information, Informational, ["type", "source"];
    /// A synthetic test number where the option `no_synthetic_ids` refuses them.
    NoIdSyntheticNotAllowed = "no-id-synthetic-not-allowed", None, Error, BusinessRule, ["type", "source"];
    /// A valid number without a birth date (`fhirreg check-id`).
    NoIdValid = "no-id-valid", None, Information, Informational, ["type"];
    /// A valid number with its birth date (`fhirreg check-id`).
    NoIdValidBorn = "no-id-valid-born", None, Information, Informational, ["type", "date"];
    /// A kommunenummer or bydelsnummer that the loaded list (`list`, a
    /// CodeSystem carrying the identifier's OID) does not have.
    NoIdNotInList = "no-id-not-in-list", None, Error, CodeInvalid, ["type", "value", "list"];
    /// A code of a Norwegian code system (Volven) known here without its
    /// codes (`content` not-present): not checked, never invalid.
    NoCodeSystemNotPresent = "no-code-system-not-present", None, Information, Informational, ["system", "name", "code"];
    /// A code of a Volven code system (`urn:oid:2.16.578.1.12.4.1.1.NNNN`)
    /// that is not held here: not checked.
    NoCodeSystemNotHeld = "no-code-system-not-held", None, Information, Informational, ["system", "code"];
}
